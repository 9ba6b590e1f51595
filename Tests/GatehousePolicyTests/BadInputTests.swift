import Foundation
import GatehouseCore
import GatehousePolicy
import Testing

/// Every bad input gets an error naming the file, line and field, and no partial policy set.
@Suite("Bad input")
struct BadInputTests {
    private func errors(_ yaml: String, strict: Bool = false) -> [ResourceError] {
        do {
            _ = try ResourceLoader(strict: strict).load(text: yaml, file: "bad.yaml")
            return []
        } catch {
            return error.errors
        }
    }

    private func policy(_ spec: String) -> String {
        """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: p, namespace: x}
        spec:
        \(spec)
        """
    }

    @Test("malformed YAML names the line")
    func malformed() throws {
        let found = errors("apiVersion: v1\nkind: Pod\nmetadata: {name: [a\n")
        let error = try #require(found.first)
        #expect(error.code == .syntax)
        #expect(error.location?.file == "bad.yaml" && (error.location?.line ?? 0) >= 3)
    }

    @Test("malformed JSON is refused with its location")
    func malformedJSON() throws {
        let error = try #require(errors("{\"apiVersion\": \"v1\",\n\t\"kind\": \"Namespace\",, }").first)
        #expect(error.code == .syntax && error.location?.line == 2)
    }

    @Test(
        "the cases the issue names",
        arguments: [
            (
                "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]",
                ResourceError.Code.invalidCIDR,
                "spec.ingress[0].from[0].ipBlock.cidr", 6
            ),
            (
                "  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}]}]",
                .invalidCIDR,
                "spec.ingress[0].from[0].ipBlock.except[0]", 6
            ),
            (
                "  podSelector: {}\n  ingress: [{ports: [{port: 90, endPort: 80}]}]", .invalidPort,
                "spec.ingress[0].ports[0].endPort", 6
            ),
            (
                "  podSelector: {}\n  ingress: [{ports: [{protocol: ICMP, port: 80}]}]", .invalidProtocol,
                "spec.ingress[0].ports[0].protocol", 6
            ),
            ("  podSelector: {}\n  egress: [{to: [{}]}]", .missingField, "spec.egress[0].to[0]", 6),
            (
                "  podSelector: {matchExpressions: [{key: a, operator: Maybe}]}", .invalidValue,
                "spec.podSelector.matchExpressions[0].operator", 5
            ),
            (
                "  podSelector: {}\n  ingress: [{ports: [{port: 70000}]}]", .invalidPort,
                "spec.ingress[0].ports[0].port", 6
            ),
            (
                "  podSelector: {}\n  ingress: [{ports: [{port: Not_A_Name}]}]", .invalidPort,
                "spec.ingress[0].ports[0].port", 6
            ),
            ("  podSelector: {}\n  policyTypes: [Sideways]", .invalidValue, "spec.policyTypes[0]", 6),
        ]
    )
    func kubernetesErrors(spec: String, code: ResourceError.Code, field: String, line: Int) throws {
        let found = errors(policy(spec))
        let error = try #require(found.first, "\(spec)")
        #expect(error.code == code, "\(error)")
        #expect(error.field == field, "\(error)")
        #expect(error.location?.line == line, "\(error)")
        #expect(error.description.hasPrefix("bad.yaml:\(line):"), "\(error)")
    }

    @Test("a missing required field names its path")
    func missingField() throws {
        let error = try #require(
            errors("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {namespace: x}\nspec: {}\n").first
        )
        #expect(error.code == .missingField && error.field == "metadata.name")
    }

    @Test("an invalid Calico selector points at the column of the mistake")
    func selectorColumn() throws {
        let yaml = """
            apiVersion: projectcalico.org/v3
            kind: GlobalNetworkPolicy
            metadata: {name: p}
            spec:
              selector: app = 'x'
            """
        let error = try #require(errors(yaml).first)
        #expect(error.code == .invalidSelector)
        #expect(error.field == "spec.selector")
        #expect(error.location?.line == 5 && error.location?.column == 17, "\(error)")
    }

    @Test("Calico ports need a protocol that has ports")
    func calicoPorts() throws {
        let yaml = """
            apiVersion: projectcalico.org/v3
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              ingress: [{action: Allow, destination: {ports: [80]}}]
            """
        let numeric = try #require(errors(yaml).first)
        #expect(numeric.code == .invalidPort && numeric.field == "spec.ingress[0].destination")
        #expect(numeric.reason.contains("a numeric port or port range needs the rule's protocol"))
        let range = yaml.replacingOccurrences(of: "{ports: [80]}", with: "{ports: [\"90:80\"]}, protocol: TCP")
        #expect(errors(range).first?.code == .invalidPort)
        // Named ports alone need no protocol; beside a number they still do, and ICMP has no ports at all.
        #expect(errors(yaml.replacingOccurrences(of: "[80]", with: "[http, metrics]")).isEmpty)
        let mixed = yaml.replacingOccurrences(of: "{ports: [80]}", with: "{ports: [http], notPorts: [\"80:90\"]}")
        #expect(errors(mixed).first?.code == .invalidPort)
        let icmp = yaml.replacingOccurrences(of: "{ports: [80]}", with: "{ports: [http]}, protocol: ICMP")
        let underICMP = try #require(errors(icmp).first)
        #expect(underICMP.code == .invalidPort && underICMP.reason.contains("TCP, UDP or SCTP"))
        let badName = yaml.replacingOccurrences(of: "[80]", with: "[Not_A_Name]")
        #expect(errors(badName).first?.code == .invalidPort)
    }

    @Test("Calico services rules: exclusive fields, a namespace in global policies; slices name their service")
    func services() throws {
        let combined = """
            apiVersion: projectcalico.org/v3
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              egress: [{action: Allow, destination: {services: {name: dns}, selector: all()}}]
            """
        let error = try #require(errors(combined).first)
        #expect(error.code == .invalidValue && error.field == "spec.egress[0].destination.services")
        let global = """
            apiVersion: projectcalico.org/v3
            kind: GlobalNetworkPolicy
            metadata: {name: p}
            spec:
              egress: [{action: Allow, destination: {services: {name: dns}}}]
            """
        #expect(errors(global).first?.code == .missingField)
        let wrongSide = combined.replacingOccurrences(
            of: "egress: [{action: Allow, destination: {services: {name: dns}, selector: all()}}]",
            with: "ingress: [{action: Allow, destination: {services: {name: dns}}}]"
        )
        #expect(errors(wrongSide).first?.field == "spec.ingress[0].destination.services")
        let slice = """
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: s, namespace: x}
            endpoints: [{addresses: [10.0.0.1]}]
            """
        #expect(errors(slice).first?.field == "metadata")
    }

    @Test("unknown kinds and fields are warnings, errors with --strict")
    func unknownThings() throws {
        let yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec: {podSelector: {}, ingres: []}
            """
        let bundle = try ResourceLoader().load(text: yaml, file: "w.yaml")
        #expect(Set(bundle.warnings.map(\.code)) == [.unknownKind, .unknownField])
        #expect(bundle.warnings.contains { $0.field == "spec.ingres" })
        #expect(errors(yaml, strict: true).count == 2)
    }

    @Test("the API server's typed lists: items take kind and apiVersion from the list, as client-go fills them in")
    func typedLists() throws {
        let json = """
            {"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[
             {"metadata":{"name":"a","namespace":"x"},"status":{"podIP":"10.0.0.1"}},
             {"metadata":{"name":"done","namespace":"x"},"status":{"podIP":"10.0.0.2","phase":"Succeeded"}},
             {"metadata":{"name":"b","namespace":"x"},"status":{"podIP":"10.0.0.2"}}]}
            ---
            {"kind":"GlobalNetworkPolicyList","apiVersion":"crd.projectcalico.org/v1","items":[
             {"metadata":{"name":"default.deny"},"spec":{"tier":"default","selector":"all()","types":["Ingress"]}}]}
            """
        let bundle = try ResourceLoader(strict: true).load(text: json, file: "k8s://test/api/v1/pods")
        #expect(bundle.cluster.pod(named: "x/a") != nil && bundle.cluster.pod(named: "x/b") != nil)
        // A pod that has run to completion is no endpoint, and its address is not its own any more.
        #expect(bundle.cluster.pod(named: "x/done") == nil && bundle.cluster.pod(owning: IPAddress("10.0.0.2")!) != nil)
        #expect(bundle.policySet.policies.map(\.reference.description) == ["GlobalNetworkPolicy default.deny"])
        // A list item with a kind of its own keeps it; a bare `List`'s items must name theirs.
        let untyped = #"{"kind":"List","apiVersion":"v1","items":[{"metadata":{"name":"a"}}]}"#
        #expect(errors(untyped).map(\.field) == ["items[0].kind"])
    }

    @Test("every error of a load is reported and nothing is returned")
    func allErrors() {
        let yaml =
            policy("  podSelector: {}\n  policyTypes: [Nope]") + "\n---\n"
            + policy("  podSelector: 5")
            .replacingOccurrences(of: "name: p,", with: "name: q,")
        #expect(errors(yaml).count == 2)
    }

    @Test("an object defined twice is refused with both places")
    func duplicate() throws {
        let yaml = policy("  podSelector: {}") + "\n---\n" + policy("  podSelector: {}")
        let error = try #require(errors(yaml).first)
        #expect(error.code == .duplicate && error.reason.contains("bad.yaml:1:1"))
    }

    @Test("a policy naming an undefined tier is refused")
    func undefinedTier() throws {
        let yaml = """
            apiVersion: projectcalico.org/v3
            kind: GlobalNetworkPolicy
            metadata: {name: p}
            spec: {tier: nowhere}
            """
        #expect(errors(yaml).first?.code == .unknownReference)
    }

    @Test("alias bombs are cut off")
    func aliasBomb() throws {
        var yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let previous = "*a\(level - 1)"
            yaml += "a\(level): &a\(level) [\(Array(repeating: previous, count: 10).joined(separator: ", "))]\n"
        }
        #expect(errors(yaml).first?.code == .tooLarge)
    }

    /// Deeply nested texts, built in the test so that the log shows only their names.
    static func deepText(_ shape: String) -> String {
        switch shape {
        case "flow sequences":
            return "a: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        case "dash entries on one line":
            return String(repeating: "- ", count: 50_000) + "x"
        case "indented mappings":
            return (0..<2_000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n")
        default:
            return "{\"a\": " + String(repeating: "{\"b\": ", count: 5_000) + "1" + String(repeating: "}", count: 5_001)
        }
    }

    @Test(
        "deep nesting is refused before any recursive parser sees it",
        arguments: ["flow sequences", "dash entries on one line", "indented mappings", "JSON objects"]
    )
    func deepNesting(shape: String) {
        #expect(errors(Self.deepText(shape)).first?.code == .tooLarge)
    }

    @Test("not UTF-8 and unreadable paths are errors")
    func unreadable() throws {
        do {
            _ = try ResourceLoader().load(paths: ["/nonexistent/policies"])
            Issue.record("expected an error")
        } catch {
            #expect(error.errors.first?.code == .unreadable)
        }
    }
}
