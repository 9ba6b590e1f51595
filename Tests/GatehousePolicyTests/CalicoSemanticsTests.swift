import Foundation
import GatehouseCore
import GatehousePolicy
import GatehouseTesting
import Testing

/// Each test pins one rule of Calico's policy model (api/pkg/apis/projectcalico/v3, felix/rules).
@Suite("Calico and ClusterNetworkPolicy semantics")
struct CalicoSemanticsTests {
    static let cluster =
        ClusterYAML.namespace("ai", labels: ["team": "ml"]) + ClusterYAML.namespace("web")
        + ClusterYAML.pod(
            "ai",
            "model",
            ip: "10.0.0.1",
            labels: ["app": "model"],
            ports: [("http", 8000, "TCP")],
            serviceAccount: "model"
        )
        + ClusterYAML.pod(
            "ai",
            "rag",
            ip: "10.0.0.2",
            labels: ["app": "rag", "tier": "backend"],
            serviceAccount: "rag"
        )
        + ClusterYAML.pod("web", "ui", ip: "10.0.1.1", labels: ["app": "ui"])

    private func fixture(_ policies: String) throws -> PolicyFixture {
        try PolicyFixture(Self.cluster + policies)
    }

    @Test("`!=` on an absent label matches; `==` does not")
    func absentLabel() throws {
        let fixture = try fixture(
            """
            apiVersion: projectcalico.org/v3
            kind: NetworkPolicy
            metadata: {name: p, namespace: ai}
            spec:
              selector: app == 'model'
              ingress: [{action: Allow, source: {selector: "tier != 'frontend'"}}]
            """
        )
        #expect(try fixture.verdict("ai/rag", "ai/model", port: 8000) == .allow)
        #expect(
            try fixture.verdict("web/ui", "ai/model", port: 8000) == .deny,
            "selector confined to the policy namespace"
        )
        #expect(
            try fixture.verdict("ip:203.0.113.5", "ai/model", port: 8000) == .deny,
            "selectors match endpoints only"
        )
    }

    @Test("Pass skips the rest of the tier; the next tier decides")
    func pass() throws {
        let fixture = try fixture(
            """
            apiVersion: projectcalico.org/v3
            kind: Tier
            metadata: {name: security}
            spec: {order: 100}
            ---
            apiVersion: projectcalico.org/v3
            kind: GlobalNetworkPolicy
            metadata: {name: security.pass-ml}
            spec:
              tier: security
              order: 1
              selector: app == 'model'
              ingress: [{action: Pass, source: {namespaceSelector: team == 'ml'}}]
            ---
            apiVersion: projectcalico.org/v3
            kind: GlobalNetworkPolicy
            metadata: {name: security.deny}
            spec:
              tier: security
              order: 2
              selector: app == 'model'
              ingress: [{action: Deny}]
            """
        )
        let passed = try fixture.decide("ai/rag", "ai/model", port: 8000)
        #expect(passed.verdict == .allow)
        #expect(passed.ingress.enforced.tiers.first?.hits.first?.action == .pass)
        #expect(passed.ingress.enforced.outcome.reason == .passedThrough)
        #expect(try fixture.verdict("web/ui", "ai/model", port: 8000) == .deny)
    }

    @Test("the end of a tier denies when a policy applied and no rule decided; Log does not decide")
    func endOfTier() throws {
        let fixture = try fixture(
            """
            apiVersion: projectcalico.org/v3
            kind: NetworkPolicy
            metadata: {name: p, namespace: ai}
            spec:
              selector: app == 'model'
              ingress:
              - action: Log
              - action: Allow
                protocol: TCP
                destination: {ports: ["8000:8010"]}
            """
        )
        let denied = try fixture.decide("ai/rag", "ai/model", port: 9000)
        #expect(denied.verdict == .deny)
        #expect(denied.ingress.enforced.outcome.reason == .endOfTier)
        #expect(denied.ingress.enforced.tiers.first?.hits.first?.action == .log)
        #expect(try fixture.verdict("ai/rag", "ai/model", port: 8005) == .allow)
    }

    @Test("a tier whose policies are all staged is skipped; the staged verdict is reported apart")
    func stagedOnlyTier() throws {
        let fixture = try fixture(
            """
            apiVersion: projectcalico.org/v3
            kind: StagedNetworkPolicy
            metadata: {name: lockdown, namespace: ai}
            spec:
              selector: app == 'model'
              ingress: [{action: Deny}]
            """
        )
        let decision = try fixture.decide("ai/rag", "ai/model", port: 8000)
        #expect(decision.verdict == .allow)
        #expect(decision.ingress.enforced.outcome.reason == .noPolicy)
        #expect(decision.stagedVerdict == .deny)
        #expect(decision.ingress.staged?.outcome.policy?.kind == "StagedNetworkPolicy")
    }

    @Test("network sets make selectors match addresses outside the cluster")
    func networkSets() throws {
        let fixture = try fixture(
            """
            apiVersion: projectcalico.org/v3
            kind: GlobalNetworkSet
            metadata: {name: hub, labels: {dest: hub}}
            spec: {nets: [198.51.100.0/24]}
            ---
            apiVersion: projectcalico.org/v3
            kind: GlobalNetworkPolicy
            metadata: {name: egress}
            spec:
              selector: app == 'model'
              types: [Egress]
              egress: [{action: Allow, destination: {selector: dest == 'hub'}}]
            """
        )
        #expect(try fixture.verdict("ai/model", "ip:198.51.100.7", port: 443) == .allow)
        #expect(try fixture.verdict("ai/model", "ip:203.0.113.7", port: 443) == .deny)
    }

    @Test("serviceAccounts and notProtocol")
    func serviceAccounts() throws {
        let fixture = try fixture(
            """
            apiVersion: projectcalico.org/v3
            kind: NetworkPolicy
            metadata: {name: p, namespace: ai}
            spec:
              selector: app == 'model'
              ingress:
              - action: Allow
                notProtocol: UDP
                source: {serviceAccounts: {names: [rag]}}
            """
        )
        #expect(try fixture.verdict("ai/rag", "ai/model", port: 8000) == .allow)
        #expect(try fixture.verdict("ai/rag", "ai/model", port: 8000, protocol: .udp) == .deny)
    }

    @Test("source ports: an ephemeral source port matches only a range covering the ephemeral range")
    func sourcePorts() throws {
        let fixture = try fixture(
            """
            apiVersion: projectcalico.org/v3
            kind: NetworkPolicy
            metadata: {name: p, namespace: ai}
            spec:
              selector: app == 'model'
              ingress:
              - action: Allow
                protocol: TCP
                source: {ports: [5353]}
            """
        )
        #expect(try fixture.verdict("ai/rag", "ai/model", port: 8000) == .deny)
        #expect(try fixture.verdict("ai/rag", "ai/model", port: 8000, sourcePort: 5353) == .allow)
    }

    /// Three servers declaring a port named `serve` on TCP, UDP and SCTP, and one declaring it on no
    /// protocol at all, as Felix's named-port tests spread one name over workloads
    /// (felix/fv/named_ports_test.go; felix/calc/named_port_index.go keys each by IP, protocol and port).
    static let namedPortCluster =
        ClusterYAML.namespace("ai")
        + ClusterYAML.pod("ai", "tcp", ip: "10.0.2.1", labels: ["role": "server"], ports: [("serve", 8000, "TCP")])
        + ClusterYAML.pod("ai", "udp", ip: "10.0.2.2", labels: ["role": "server"], ports: [("serve", 5353, "UDP")])
        + ClusterYAML.pod("ai", "sctp", ip: "10.0.2.3", labels: ["role": "server"], ports: [("serve", 3868, "SCTP")])
        + ClusterYAML.pod("ai", "none", ip: "10.0.2.4", labels: ["role": "server"])
        + ClusterYAML.pod("ai", "client", ip: "10.0.2.9", labels: ["role": "client"], ports: [("serve", 7000, "TCP")])

    static func namedPortPolicy(_ rule: String) -> String {
        """
        apiVersion: projectcalico.org/v3
        kind: NetworkPolicy
        metadata: {name: p, namespace: ai}
        spec:
          selector: role == 'server'
          types: [Ingress]
          ingress: [\(rule)]
        """
    }

    @Test("a named port without a protocol matches on the protocol each pod declares for it")
    func namedPortsWithoutProtocol() throws {
        let fixture = try PolicyFixture(
            Self.namedPortCluster + Self.namedPortPolicy("{action: Allow, destination: {ports: [serve]}}")
        )
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8000) == .allow)
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8000, protocol: .udp) == .deny)
        #expect(try fixture.verdict("ai/client", "ai/udp", port: 5353, protocol: .udp) == .allow)
        #expect(try fixture.verdict("ai/client", "ai/udp", port: 5353) == .deny)
        #expect(try fixture.verdict("ai/client", "ai/sctp", port: 3868, protocol: .sctp) == .allow)
        #expect(try fixture.verdict("ai/client", "ai/sctp", port: 3868) == .deny)
        // Another pod's number for the name is not this pod's, and a pod without the name matches nothing.
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 5353, protocol: .udp) == .deny)
        #expect(try fixture.verdict("ai/client", "ai/none", port: 8000) == .deny)
    }

    @Test("named notPorts without a protocol exclude only the declared protocol and port")
    func namedNotPortsWithoutProtocol() throws {
        let fixture = try PolicyFixture(
            Self.namedPortCluster + Self.namedPortPolicy("{action: Allow, destination: {notPorts: [serve]}}")
        )
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8000) == .deny)
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8000, protocol: .udp) == .allow)
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8001) == .allow)
        #expect(try fixture.verdict("ai/client", "ai/udp", port: 5353, protocol: .udp) == .deny)
        #expect(try fixture.verdict("ai/client", "ai/sctp", port: 3868, protocol: .sctp) == .deny)
        #expect(try fixture.verdict("ai/client", "ai/none", port: 8000) == .allow)
    }

    @Test("named source ports without a protocol resolve on the source pod")
    func namedSourcePortsWithoutProtocol() throws {
        let fixture = try PolicyFixture(
            Self.namedPortCluster + Self.namedPortPolicy("{action: Allow, source: {ports: [serve]}}")
        )
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8000, sourcePort: 7000) == .allow)
        #expect(try fixture.verdict("ai/client", "ai/udp", port: 5353, protocol: .udp, sourcePort: 7000) == .deny)
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8000, sourcePort: 7001) == .deny)
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8000) == .deny, "an ephemeral port is no named port")
    }

    @Test("a named port under a rule's protocol matches only pods declaring it on that protocol")
    func namedPortProtocolMismatch() throws {
        let fixture = try PolicyFixture(
            Self.namedPortCluster
                + Self.namedPortPolicy("{action: Allow, protocol: UDP, destination: {ports: [serve]}}")
        )
        #expect(try fixture.verdict("ai/client", "ai/udp", port: 5353, protocol: .udp) == .allow)
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8000) == .deny)
        #expect(try fixture.verdict("ai/client", "ai/tcp", port: 8000, protocol: .udp) == .deny)
    }

    @Test("Admin tier before Kubernetes policies; Baseline only where no NetworkPolicy selects the pod")
    func clusterNetworkPolicyTiers() throws {
        let fixture = try fixture(
            """
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: admin}
            spec:
              tier: Admin
              priority: 1
              subject: {namespaces: {}}
              ingress: [{action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: web}}}]}]
            ---
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: baseline}
            spec:
              tier: Baseline
              priority: 1
              subject: {namespaces: {}}
              ingress: [{action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {}}}]}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: allow-all, namespace: ai}
            spec:
              podSelector: {matchLabels: {app: model}}
              ingress: [{}]
            """
        )
        #expect(try fixture.verdict("web/ui", "ai/model", port: 8000) == .deny, "admin Deny is final")
        #expect(try fixture.verdict("ai/rag", "ai/model", port: 8000) == .allow, "the NetworkPolicy decides")
        #expect(try fixture.verdict("ai/model", "ai/rag", port: 80) == .deny, "no NetworkPolicy: baseline decides")
    }

    @Test("early v1alpha1 NamespaceSet peers are read; their relative forms are refused")
    func earlyNamespaceSet() throws {
        let policy = """
            apiVersion: policy.networking.k8s.io/v1alpha1
            kind: AdminNetworkPolicy
            metadata: {name: early}
            spec:
              priority: 1
              subject: {namespaces: {matchLabels: {team: ml}}}
              ingress:
              - action: Deny
                from: [{namespaces: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}}}]
            """
        let fixture = try fixture(policy)
        #expect(fixture.bundle.warnings.isEmpty)
        #expect(try fixture.verdict("web/ui", "ai/model", port: 8000) == .deny)
        #expect(try fixture.verdict("ai/rag", "ai/model", port: 8000) == .allow)
        let relative = policy.replacingOccurrences(
            of: "{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: web}}}",
            with: "{sameLabels: [team]}"
        )
        #expect(throws: ResourceErrors.self) { try PolicyFixture(Self.cluster + relative) }
    }

    @Test("a ClusterNetworkPolicy peer the engine cannot match fails closed")
    func failClosed() throws {
        let fixture = try fixture(
            """
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: weird}
            spec:
              tier: Admin
              priority: 1
              subject: {namespaces: {}}
              egress:
              - {action: Accept, to: [{}]}
              - {action: Deny, to: [{}]}
            """
        )
        #expect(try fixture.verdict("ai/rag", "web/ui", port: 80) == .deny)
    }
}
