import Foundation
import GatehouseCore
import GatehousePolicy
import Testing

/// `gatehouse blueprint`: a description becomes policies in three flavors, each proved by the engine.
@Suite("Blueprint")
struct BlueprintTests {
    static let description = """
        apiVersion: gatehouse.dev/v1alpha1
        kind: Blueprint
        metadata: {name: ai}
        spec:
          namespaces: [ai, ai-batch]
          gateway:
            labels: {app: gatehouse}
            ports: [8443]
            clients: [{name: web, namespace: web, labels: {}}]
          models:
          - {name: vllm, labels: {app: vllm}, ports: [8000]}
          - {name: embedder, namespace: ai-batch, labels: {app: embed}, ports: [8001, 8002]}
          apps:
          - {name: rag, labels: {app: rag}, ports: [8080]}
          - {name: qdrant, namespace: ai-batch, labels: {app: qdrant}, ports: [6333]}
          flows:
          - {from: web, to: rag}
          - {from: rag, to: qdrant}
          - {from: rag, to: gateway}
          egress:
          - {from: gateway, fqdns: [api.openai.com], cidrs: [203.0.113.0/24, 2001:db8::/64], ports: [443]}
          - {from: rag, cidrs: [198.18.0.7/32], ports: [5432]}
        """

    static func blueprint(_ text: String = description) throws -> Blueprint {
        try Blueprint.decode(text: text, file: "ai.yaml")
    }

    @Test("every flavor's policies pass the proof on example pods", arguments: BlueprintPolicies.Flavor.allCases)
    func proved(flavor: BlueprintPolicies.Flavor) throws {
        let blueprint = try Self.blueprint()
        for staged in flavor == .admin ? [false] : [false, true] {
            let policies = BlueprintPolicies(blueprint, flavor: flavor, staged: staged)
            let check = try BlueprintCheck(blueprint, flavor: flavor, policies: policies.yaml, staged: staged)
            #expect(check.failures.isEmpty, "\(flavor) staged \(staged): \(check.failures.prefix(5))")
            #expect(check.probes.count > 100)
            if staged {
                // Staged policies enforce nothing: the proof is of what they would do.
                let kind = flavor == .calico ? "StagedNetworkPolicy" : "StagedKubernetesNetworkPolicy"
                #expect(policies.yaml.contains("kind: \(kind)") && !policies.yaml.contains("kind: NetworkPolicy"))
                let enforced = try BlueprintCheck(blueprint, flavor: flavor, policies: policies.yaml)
                #expect(enforced.failures.allSatisfy { $0.expected == .deny && $0.actual == .allow })
                #expect(!enforced.failures.isEmpty)
            }
        }
    }

    @Test("the proof checks what matters: declared flows allowed, the rest denied")
    func probes() throws {
        let blueprint = try Self.blueprint()
        let check = try BlueprintCheck(
            blueprint,
            flavor: .kubernetes,
            policies: BlueprintPolicies(blueprint, flavor: .kubernetes).yaml
        )
        func verdict(_ from: String, _ to: String, _ port: UInt16, _ proto: IPProtocol = .tcp) -> Verdict? {
            check.probes.first { $0.from == from && $0.to == to && $0.protocol == proto && $0.port == port }?.actual
        }
        #expect(verdict("web/web-0", "ai/gateway-0", 8443) == .allow)
        #expect(verdict("web/web-0", "ai/vllm-0", 8000) == .deny, "models only from the gateway")
        #expect(verdict("ai/gateway-0", "ai-batch/embedder-0", 8002) == .allow)
        #expect(verdict("ai/rag-0", "ai/vllm-0", 8000) == .deny)
        #expect(verdict("ai/rag-0", "ai-batch/qdrant-0", 6333) == .allow)
        #expect(verdict("ai/rag-0", "ai-batch/qdrant-0", 9999) == .deny)
        #expect(verdict("ai/gateway-0", "ip:203.0.113.0", 443) == .allow)
        #expect(verdict("ai/gateway-0", "ip:192.0.2.254", 443) == .deny)
        #expect(verdict("ai/rag-0", "ip:203.0.113.0", 443) == .deny)
        #expect(verdict("ai/vllm-0", "kube-system/dns-0", 53, .udp) == .allow)
        #expect(verdict("ai/vllm-0", "gatehouse-outside/outsider", 80) == .deny)
        #expect(verdict("gatehouse-outside/outsider", "ai/rag-0", 8080) == .deny)
    }

    @Test("a host name is never written as a policy, and never turns into allow-all")
    func hostNames() throws {
        let blueprint = try Self.blueprint()
        for flavor in BlueprintPolicies.Flavor.allCases {
            let policies = BlueprintPolicies(blueprint, flavor: flavor)
            #expect(policies.warnings.count == 1 && policies.warnings[0].contains("api.openai.com"))
            #expect(policies.yaml.hasPrefix("# warning: gateway: egress to api.openai.com cannot be written"))
            #expect(!policies.yaml.contains("0.0.0.0/0") && !policies.yaml.contains("::/0"))
        }
    }

    @Test("a proof that fails names the flows that differ")
    func failingProof() throws {
        let blueprint = try Self.blueprint()
        // The generator's output with one policy more, opening the model server: the proof must catch it.
        let opened =
            BlueprintPolicies(blueprint, flavor: .kubernetes).yaml
            + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: ai}\n"
            + "spec: {podSelector: {matchLabels: {app: vllm}}, ingress: [{}]}\n"
        let check = try BlueprintCheck(blueprint, flavor: .kubernetes, policies: opened)
        #expect(check.failures.contains { $0.from == "web/web-0" && $0.to == "ai/vllm-0" && $0.port == 8000 })
        #expect(check.failures.allSatisfy { $0.to == "ai/vllm-0" && $0.actual == .allow })
    }

    @Test(
        "bad blueprints are refused with the file, line and field",
        arguments: [
            ("  namespaces: [ai, ai-batch]", "  namespaces: []", "spec.namespaces: name at least one namespace"),
            (
                "{name: rag, labels: {app: rag}, ports: [8080]}", "{name: rag, ports: [8080]}",
                "labels: select the app's pods"
            ),
            ("{from: rag, to: qdrant}", "{from: rag, to: vllm}", "only the gateway reaches a model server"),
            ("{from: rag, to: qdrant}", "{from: rag, to: nowhere}", "no workload is named \"nowhere\""),
            ("{from: rag, cidrs: [198.18.0.7/32], ports: [5432]}", "{from: rag, ports: [5432]}", "give fqdns or cidrs"),
            ("fqdns: [api.openai.com]", "fqdns: [\"api openai\"]", "is not a host name"),
            (
                "namespace: ai-batch, labels: {app: qdrant}", "namespace: elsewhere, labels: {app: qdrant}",
                "must live in an AI namespace"
            ),
            ("  flows:", "  flow:", "unknown field \"flow\""),
            ("ports: [8443]", "ports: [0]", "spec.gateway.ports[0]"),
        ]
    )
    func refused(original: String, replacement: String, expected: String) throws {
        let text = Self.description.replacingOccurrences(of: original, with: replacement)
        #expect(text != Self.description)
        do {
            _ = try Self.blueprint(text)
            Issue.record("expected an error for \(replacement)")
        } catch let error as ResourceErrors {
            let described = error.errors.map(\.description).joined(separator: "\n")
            #expect(described.contains(expected), "\(described)")
            #expect(described.hasPrefix("ai.yaml:"), "\(described)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    // MARK: The gateway's own configuration

    static let services = """
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: v1, kind: Pod, metadata: {name: vllm-0, namespace: ai, labels: {app: vllm}},
           spec: {containers: [{name: main, ports: [{name: http, containerPort: 8000}]}]}}
        - {apiVersion: v1, kind: Pod, metadata: {name: tei-0, namespace: ai-batch, labels: {app: tei}},
           spec: {containers: [{name: main, ports: [{name: api, containerPort: 3000}]}]}}
        - {apiVersion: v1, kind: Service, metadata: {name: vllm, namespace: ai},
           spec: {selector: {app: vllm}, ports: [{port: 80, targetPort: http}]}}
        - {apiVersion: v1, kind: Service, metadata: {name: tei, namespace: ai-batch},
           spec: {selector: {app: tei}, ports: [{port: 3000}]}}
        - {apiVersion: v1, kind: Service, metadata: {name: external, namespace: ai},
           spec: {ports: [{port: 443}]}}
        - {apiVersion: v1, kind: Service, metadata: {name: vllm, namespace: web},
           spec: {selector: {app: vllm}, ports: [{port: 80}]}}
        """

    static func gateway(_ urls: [String]) -> BlueprintGateway {
        BlueprintGateway(
            file: "gatehouse.yaml",
            listenPort: 9443,
            upstreams: urls.enumerated().map { index, url in
                let authority = url.split(separator: "/")[1]
                let host = authority.split(separator: ":").first.map(String.init) ?? ""
                let port = authority.split(separator: ":").dropFirst().first.flatMap { UInt16($0) }
                return BlueprintGateway.Upstream(
                    model: "m\(index)",
                    index: 0,
                    url: url,
                    host: host,
                    port: port ?? (url.hasPrefix("https") ? 443 : 80)
                )
            }
        )
    }

    @Test("the gateway's upstreams become its model servers (from their Services) and its egress")
    func gatewayConfiguration() throws {
        let cluster = try ResourceLoader().load(paths: [], texts: [(Self.services, "cluster.yaml")]).cluster
        // No models and no egress declared, and no gateway port: the configuration gives them all.
        let text = Self.description
            .replacingOccurrences(of: "    ports: [8443]\n", with: "")
            .replacingOccurrences(
                of:
                    "  - {from: gateway, fqdns: [api.openai.com], cidrs: [203.0.113.0/24, 2001:db8::/64], ports: [443]}\n",
                with: ""
            )
        let blueprint = try Blueprint.decode(
            text: text,
            file: "ai.yaml",
            gateway: Self.gateway([
                "http://vllm.ai.svc.cluster.local", "http://tei.ai-batch:3000", "https://api.openai.com",
                "https://203.0.113.10", "http://127.0.0.1:9000", "http://vllm.ai.svc:80",
            ]),
            cluster: cluster
        )
        let gateway = try #require(blueprint.workload(named: "gateway"))
        #expect(gateway.ports == [9443], "the listen port, when the blueprint gives none")
        // ai/vllm selects the declared model's pods: it gains no twin, and keeps its port (targetPort http = 8000).
        #expect(blueprint.workloads.filter { $0.role == .model }.map(\.name) == ["vllm", "embedder", "tei"])
        #expect(blueprint.workload(named: "vllm")?.ports == [8000])
        let tei = try #require(blueprint.workload(named: "tei"))
        #expect(tei.namespace == "ai-batch" && tei.labels == ["app": "tei"] && tei.ports == [3000])
        #expect(blueprint.connections.contains { $0.from == "gateway" && $0.to == "tei" })
        let egress = blueprint.egress.filter { $0.from == "gateway" }
        #expect(egress.map(\.fqdns) == [["api.openai.com"], []])
        #expect(egress.map { $0.cidrs.map(\.description) } == [[], ["203.0.113.10/32"]])
        #expect(egress.allSatisfy { $0.ports == [443] }, "loopback (a sidecar) is no egress")

        for flavor in BlueprintPolicies.Flavor.allCases {
            let policies = BlueprintPolicies(blueprint, flavor: flavor)
            let check = try BlueprintCheck(blueprint, flavor: flavor, policies: policies.yaml)
            #expect(check.failures.isEmpty, "\(flavor): \(check.failures.prefix(3))")
        }
        let check = try BlueprintCheck(
            blueprint,
            flavor: .kubernetes,
            policies: BlueprintPolicies(blueprint, flavor: .kubernetes).yaml
        )
        func verdict(_ from: String, _ to: String, _ port: UInt16) -> Verdict? {
            check.probes.first { $0.from == from && $0.to == to && $0.protocol == .tcp && $0.port == port }?.actual
        }
        #expect(verdict("ai/gateway-0", "ai-batch/tei-0", 3000) == .allow)
        #expect(verdict("ai/rag-0", "ai-batch/tei-0", 3000) == .deny)
        #expect(verdict("ai/gateway-0", "ip:203.0.113.10", 443) == .allow)

        // An egress the blueprint already declares is not added twice.
        let declared = try Blueprint.decode(
            text: Self.description,
            file: "ai.yaml",
            gateway: Self.gateway(["https://api.openai.com", "https://203.0.113.10"]),
            cluster: cluster
        )
        #expect(declared.egress.count == 2)
    }

    @Test(
        "an upstream that cannot be resolved is refused, naming the configuration's field",
        arguments: [
            ("http://vllm.ai.svc:80", false, "names Service ai/vllm: give --cluster or --state with it"),
            ("http://gone.ai.svc:80", true, "names Service ai/gone, which the cluster state does not hold"),
            ("https://external.ai.svc", true, "which has no selector"),
            ("http://vllm.ai.svc:8080", true, "which has no TCP port 8080"),
            ("http://vllm.web.svc", true, "is in namespace web, not one of spec.namespaces"),
            ("http://rag.ai.svc", true, "names Service ai/rag, which the cluster state does not hold"),
        ]
    )
    func gatewayRefused(url: String, withCluster: Bool, expected: String) throws {
        let cluster = try ResourceLoader().load(paths: [], texts: [(Self.services, "cluster.yaml")]).cluster
        do {
            _ = try Blueprint.decode(
                text: Self.description,
                file: "ai.yaml",
                gateway: Self.gateway([url]),
                cluster: withCluster ? cluster : nil
            )
            Issue.record("expected an error for \(url)")
        } catch {
            let described = error.errors.map(\.description).joined(separator: "\n")
            #expect(described.hasPrefix("gatehouse.yaml: models[m0].upstreams[0].url: \(url) "), "\(described)")
            #expect(described.contains(expected), "\(described)")
        }
    }
}
