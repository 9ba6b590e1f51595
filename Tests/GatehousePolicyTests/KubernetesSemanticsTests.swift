import GatehouseCore
import GatehousePolicy
import GatehouseTesting
import Testing

/// Each test pins one rule of `networking.k8s.io/v1` NetworkPolicy (kubernetes/api networking/v1/types.go).
@Suite("Kubernetes NetworkPolicy semantics")
struct KubernetesSemanticsTests {
    static let cluster =
        ClusterYAML.namespace("x", labels: ["ns": "x"]) + ClusterYAML.namespace("y", labels: ["ns": "y"])
        + ClusterYAML.pod("x", "a", ip: "10.0.0.1", labels: ["pod": "a"], ports: [("serve-80-tcp", 80, "TCP")])
        + ClusterYAML.pod(
            "x",
            "b",
            ip: "10.0.0.2",
            labels: ["pod": "b"],
            ports: [("serve-80-tcp", 80, "TCP"), ("dns", 53, "UDP")]
        )
        + ClusterYAML.pod("y", "a", ip: "10.0.1.1", labels: ["pod": "a"], ports: [("serve-81-tcp", 81, "TCP")])

    private func fixture(_ policies: String) throws -> PolicyFixture {
        try PolicyFixture(Self.cluster + policies)
    }

    @Test("no policy: everything is allowed (not isolated)")
    func notIsolated() throws {
        let fixture = try fixture("")
        #expect(try fixture.verdict("x/a", "y/a", port: 81) == .allow)
        #expect(try fixture.decide("x/a", "y/a", port: 81).ingress.enforced.outcome.reason == .noPolicy)
    }

    @Test("policyTypes empty: Ingress always, Egress only with at least one egress rule (defaults.go)")
    func policyTypesDefaulting() throws {
        let ingressOnly = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec: {podSelector: {}, egress: []}
            """
        )
        #expect(try ingressOnly.verdict("y/a", "x/a", port: 80) == .deny)
        #expect(try ingressOnly.verdict("x/a", "y/a", port: 81) == .allow, "an empty egress list adds no Egress")
        let withEgress = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              podSelector: {}
              policyTypes: []
              egress: [{to: [{podSelector: {}}]}]
            """
        )
        #expect(try withEgress.verdict("x/a", "y/a", port: 81) == .deny, "one egress rule adds Egress")
        #expect(try withEgress.verdict("x/a", "x/b", port: 80) == .deny, "ingress stays isolated")
        #expect(try withEgress.verdict("y/a", "x/a", port: 80) == .deny)
    }

    @Test("an empty namespaceSelector in a peer means every namespace, not addresses outside")
    func emptyNamespaceSelector() throws {
        let fixture = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              ingress: [{from: [{namespaceSelector: {}}]}]
            """
        )
        #expect(try fixture.verdict("y/a", "x/a", port: 80) == .allow)
        #expect(try fixture.verdict("ip:203.0.113.1", "x/a", port: 80) == .deny)
    }

    @Test("a podSelector alone means pods of the policy's namespace")
    func podSelectorAlone() throws {
        let fixture = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: b}}
              ingress: [{from: [{podSelector: {matchLabels: {pod: a}}}]}]
            """
        )
        #expect(try fixture.verdict("x/a", "x/b", port: 80) == .allow)
        #expect(try fixture.verdict("y/a", "x/b", port: 80) == .deny, "y/a has the label but lives elsewhere")
    }

    @Test("AND within a peer, OR across peers")
    func andOr() throws {
        let and = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: b}}
              ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}, podSelector: {matchLabels: {pod: b}}}]}]
            """
        )
        #expect(try and.verdict("y/a", "x/b", port: 80) == .deny)
        let or = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: b}}
              ingress: [{from: [{namespaceSelector: {matchLabels: {ns: y}}}, {podSelector: {matchLabels: {pod: b}}}]}]
            """
        )
        #expect(try or.verdict("y/a", "x/b", port: 80) == .allow)
        #expect(try or.verdict("x/a", "x/b", port: 80) == .deny)
    }

    @Test("both the source's egress and the destination's ingress must allow")
    func bothSides() throws {
        let fixture = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: deny-egress, namespace: y}
            spec: {podSelector: {}, policyTypes: [Egress]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: allow-all-in, namespace: x}
            spec:
              podSelector: {}
              ingress: [{}]
            """
        )
        let decision = try fixture.decide("y/a", "x/a", port: 80)
        #expect(decision.verdict == .deny)
        #expect(decision.egress.verdict == .deny && decision.ingress.verdict == .allow)
    }

    @Test("ipBlock with except, matched against pod addresses too")
    func ipBlock() throws {
        let fixture = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.2/32]}}]}]
            """
        )
        #expect(try fixture.verdict("y/a", "x/a", port: 80) == .allow)
        #expect(try fixture.verdict("x/b", "x/a", port: 80) == .deny)
        #expect(try fixture.verdict("ip:10.0.9.9", "x/a", port: 80) == .allow)
        #expect(try fixture.verdict("ip:10.1.0.1", "x/a", port: 80) == .deny)
    }

    @Test("named ports resolve on the destination pod; endPort makes a range; protocol defaults to TCP")
    func ports() throws {
        let fixture = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              podSelector: {}
              ingress:
              - ports: [{port: serve-80-tcp}]
              - ports: [{port: 1000, endPort: 2000}]
              - ports: [{port: dns, protocol: UDP}]
            """
        )
        #expect(try fixture.verdict("y/a", "x/a", port: 80) == .allow)
        #expect(try fixture.verdict("y/a", "x/a", port: 80, protocol: .udp) == .deny)
        #expect(try fixture.verdict("y/a", "x/a", port: 1500) == .allow)
        #expect(try fixture.verdict("y/a", "x/a", port: 2001) == .deny)
        #expect(try fixture.verdict("y/a", "x/b", port: 53, protocol: .udp) == .allow)
        #expect(try fixture.verdict("y/a", "x/a", port: 53, protocol: .udp) == .deny, "x/a declares no dns port")
    }

    @Test("a named port in an egress rule resolves on the peer pod")
    func egressNamedPort() throws {
        let fixture = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec:
              podSelector: {matchLabels: {pod: a}}
              policyTypes: [Egress]
              egress: [{ports: [{port: serve-81-tcp}]}]
            """
        )
        #expect(try fixture.verdict("x/a", "y/a", port: 81) == .allow)
        #expect(try fixture.verdict("x/a", "x/b", port: 81) == .deny)
        #expect(try fixture.verdict("x/a", "ip:203.0.113.1", port: 81) == .deny, "no pod, no named port")
    }

    @Test("a pod's traffic to itself is allowed")
    func loopback() throws {
        let fixture = try fixture(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: p, namespace: x}
            spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
            """
        )
        #expect(try fixture.decide("x/a", "x/a", port: 80).egress.enforced.outcome.reason == .loopback)
        #expect(try fixture.verdict("x/a", "x/a", port: 80) == .allow)
    }
}
