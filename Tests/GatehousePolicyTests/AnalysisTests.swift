import Foundation
import GatehouseCore
import GatehousePolicy
import GatehouseTesting
import Testing

@Suite("Matrix, lint and diff")
struct AnalysisTests {
    static let cluster =
        ClusterYAML.namespace("ai") + ClusterYAML.namespace("web")
        + ClusterYAML.pod("ai", "model", ip: "10.0.0.1", labels: ["app": "model"], ports: [("http", 8000, "TCP")])
        + ClusterYAML.pod("ai", "rag", ip: "10.0.0.2", labels: ["app": "rag"])
        + ClusterYAML.pod("web", "ui", ip: "10.0.1.1", labels: ["app": "ui"])

    static let policies = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: model, namespace: ai}
        spec:
          podSelector: {matchLabels: {app: model}}
          ingress:
          - from: [{podSelector: {matchLabels: {app: rag}}}]
            ports: [{port: http}]
          - from: [{podSelector: {matchLabels: {app: rag}}}]
            ports: [{port: 8000}]
          - from: [{podSelector: {matchLabels: {app: nothing-has-this}}}]
            ports: [{port: grpc}]
        """

    @Test("the matrix agrees with single decisions")
    func matrix() throws {
        let fixture = try PolicyFixture(Self.cluster + Self.policies)
        let matrix = ReachabilityMatrix(engine: fixture.engine, port: 8000, protocol: .tcp)
        #expect(matrix.names == ["ai/model", "ai/rag", "web/ui"])
        for row in matrix.names.indices {
            for column in matrix.names.indices {
                let verdict = try fixture.verdict(matrix.names[row], matrix.names[column], port: 8000)
                #expect(matrix.allows(row: row, column: column) == (verdict == .allow))
            }
        }
        #expect(!matrix.allows(row: 2, column: 0) && matrix.allows(row: 1, column: 0))
    }

    @Test("lint finds missing default deny, shadowed rules, dead selectors and unknown named ports")
    func lint() throws {
        let fixture = try PolicyFixture(Self.cluster + Self.policies)
        let findings = PolicyLinter(bundle: fixture.bundle).findings()
        let codes = Set(findings.map(\.code))
        #expect(codes.isSuperset(of: ["no-default-deny-ingress", "peer-selects-nothing", "unknown-named-port"]))
        #expect(!codes.contains("shadowed-rule"), "port http and port 8000 are different criteria")
        let web = findings.first { $0.code == "no-default-deny-ingress" && $0.object == "Namespace web" }
        #expect(web?.message.contains("1 of 1 pods") == true)
        #expect(findings.contains { $0.code == "unknown-named-port" && $0.field == "spec.ingress[2]" })
    }

    @Test("lint: a rule after a broader one is shadowed; allow-all is flagged")
    func shadowed() throws {
        let fixture = try PolicyFixture(
            Self.cluster + """
                apiVersion: projectcalico.org/v3
                kind: NetworkPolicy
                metadata: {name: p, namespace: ai}
                spec:
                  ingress:
                  - {action: Allow, protocol: TCP, destination: {ports: ["8000:9000"]}}
                  - {action: Deny, protocol: TCP, source: {selector: app == 'rag'}, destination: {ports: [8080]}}
                  - {action: Allow}
                """
        )
        let findings = PolicyLinter(bundle: fixture.bundle).findings()
        #expect(findings.contains { $0.code == "shadowed-rule" && $0.field == "spec.ingress[1]" })
        #expect(findings.contains { $0.code == "allow-all-rule" && $0.field == "spec.ingress[2]" })
        #expect(!findings.contains { $0.code == "shadowed-rule" && $0.field == "spec.ingress[2]" })
    }

    @Test("lint: a peer of every namespace is flagged as broad")
    func anyNamespace() throws {
        let fixture = try PolicyFixture(
            Self.cluster + """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: wide, namespace: ai}
                spec:
                  podSelector: {}
                  ingress: [{from: [{namespaceSelector: {}}]}, {from: [{namespaceSelector: {}, podSelector: {matchLabels: {app: ui}}}]}]
                  egress: [{to: [{ipBlock: {cidr: 10.0.0.1/8}}]}]
                """
        )
        let findings = PolicyLinter(bundle: fixture.bundle).findings()
        #expect(findings.filter { $0.code == "allow-any-namespace" }.map(\.field) == ["spec.ingress[0]"])
        let hostBits = findings.first { $0.code == "cidr-host-bits" }
        #expect(hostBits?.field == "spec.egress[0]" && hostBits?.message.hasSuffix("10.0.0.0/8") == true)
    }

    @Test("lint: staged policies that would deny what is allowed now")
    func stagedWouldDeny() throws {
        let fixture = try PolicyFixture(
            Self.cluster + """
                apiVersion: projectcalico.org/v3
                kind: StagedGlobalNetworkPolicy
                metadata: {name: lockdown}
                spec:
                  selector: app == 'ui'
                  ingress: [{action: Deny}]
                """
        )
        let finding = PolicyLinter(bundle: fixture.bundle).findings().first { $0.code == "staged-would-deny" }
        #expect(finding?.object == "StagedGlobalNetworkPolicy lockdown")
        #expect(finding?.message.contains("ai/model -> web/ui") == true)
    }

    @Test("diff reports exactly the flows that change, with port ranges and reasons")
    func diff() throws {
        let old = try PolicyFixture(Self.cluster + Self.policies).bundle
        let newPolicies = Self.policies.replacingOccurrences(
            of: "ports: [{port: 8000}]",
            with: "ports: [{port: 8000, endPort: 8100}]"
        )
        .replacingOccurrences(
            of: "{app: rag}}}]\n    ports: [{port: 8000",
            with: "{app: rag}}}, {namespaceSelector: {}}]\n    ports: [{port: 8000"
        )
        let new = try PolicyFixture(Self.cluster + newPolicies).bundle
        let diff = PolicyDiff(cluster: old.cluster, old: old.policySet, new: new.policySet)
        #expect(diff.changedPolicies == ["NetworkPolicy ai/model"])
        let changes = Set(
            diff.changes.map { "\($0.from)>\($0.to) \($0.protocol)/\($0.ports) \($0.before)->\($0.after)" }
        )
        #expect(
            changes == [
                "ai/rag>ai/model TCP/8001-8100 deny->allow", "web/ui>ai/model TCP/8000-8100 deny->allow",
            ]
        )
        let applied = old.policySet.applying(new.policySet)
        #expect(applied.policies.count == old.policySet.policies.count)
        #expect(PolicyDiff(cluster: old.cluster, old: old.policySet, new: applied).changes == diff.changes)
        let unchanged = PolicyDiff(cluster: old.cluster, old: old.policySet, new: old.policySet)
        #expect(unchanged.changes.isEmpty && unchanged.checkedFlows == 0)
    }
    @Test("diff of two cluster states: a pod relabelled, one added, one deleted; only their flows change")
    func clusterDiff() throws {
        let bystander = ClusterYAML.pod("web", "api", ip: "10.0.1.2", labels: ["app": "api"])
        let old = try PolicyFixture(Self.cluster + bystander + Self.policies).bundle
        let newCluster =
            bystander + ClusterYAML.namespace("ai") + ClusterYAML.namespace("web")
            + ClusterYAML.pod("ai", "model", ip: "10.0.0.1", labels: ["app": "model"], ports: [("http", 8000, "TCP")])
            + ClusterYAML.pod("ai", "rag", ip: "10.0.0.2", labels: ["app": "other"])
            + ClusterYAML.pod("ai", "rag2", ip: "10.0.0.3", labels: ["app": "rag"])
        let new = try PolicyFixture(newCluster + Self.policies).bundle
        let sides = (old: (old.cluster, old.policySet), new: (new.cluster, new.policySet))
        let touched = PolicyDiff(old: sides.old, new: sides.new, touched: ["ai/rag", "ai/rag2", "web/ui"])
        let changes = Set(
            touched.changes.map { "\($0.from)>\($0.to) \($0.protocol)/\($0.ports) \($0.before)->\($0.after)" }
        )
        #expect(changes.contains("ai/rag>ai/model TCP/8000 allow->deny"))
        #expect(changes.contains("ai/rag2>ai/model TCP/8000 deny->allow"))
        #expect(changes.contains("web/ui>ai/rag TCP/1-65535 allow->deny"))
        #expect(!changes.contains { $0.hasPrefix("web/ui>ai/model") }, "denied before, and absent after")
        let gone = try #require(touched.changes.first { $0.from == "web/ui" && $0.to == "ai/rag" })
        #expect(gone.afterReason == "the source does not exist")
        // Checking every flow finds nothing more: a pod's changes matter only to its own flows.
        #expect(touched.changedPolicies.isEmpty)
        let everything = PolicyDiff(old: sides.old, new: sides.new, touched: nil)
        #expect(everything.changes == touched.changes)
        #expect(everything.checkedFlows > touched.checkedFlows)
        // Nothing touched, nothing checked.
        let none = PolicyDiff(old: sides.old, new: sides.new, touched: [])
        #expect(none.changes.isEmpty && none.checkedFlows == 0)
    }
}
