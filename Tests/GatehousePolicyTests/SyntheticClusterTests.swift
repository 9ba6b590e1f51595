import GatehouseCore
import GatehousePolicy
import GatehouseTesting
import Testing

@Suite("Synthetic cluster")
struct SyntheticClusterTests {
    @Test("the benchmark cluster has the sizes the issue names and loads cleanly with --strict")
    func sizes() throws {
        let synthetic = SyntheticCluster()
        let text = synthetic.files().map(\.text).joined(separator: "---\n")
        let bundle = try ResourceLoader(strict: true).load(text: text, file: "synthetic.yaml")
        #expect(bundle.cluster.pods.count == 2_000)
        #expect(bundle.cluster.namespaces.count == 100)
        #expect(bundle.policySet.policies.count == 1_000)
        // Every kind a cluster holds; ModelAccessPolicy is compiled from gatehouse.yaml, never read from one.
        #expect(
            Set(bundle.policySet.policies.map(\.kind)) == Set(PolicyKind.allCases).subtracting([.modelAccessPolicy])
        )
        #expect(bundle.policySet.tiers.count == 7, "5 Calico tiers with default, plus kube-admin and kube-baseline")
    }

    @Test("the fast path and the traced path agree on random flows")
    func fastPathAgrees() throws {
        let synthetic = SyntheticCluster(namespaces: 12, podsPerNamespace: 10)
        let text = synthetic.files().map(\.text).joined(separator: "---\n")
        let bundle = try ResourceLoader(strict: true).load(text: text, file: "synthetic.yaml")
        let engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
        var random = SeededGenerator(seed: 7)
        let endpoints =
            engine.matrixEndpoints + [.external(IPAddress("198.51.3.9")!), .external(IPAddress("8.8.8.8")!)]
        var verdicts: Set<Verdict> = []
        for _ in 0..<5_000 {
            let flow = Flow(
                source: endpoints.randomElement(using: &random)!,
                destination: endpoints.randomElement(using: &random)!,
                protocol: [.tcp, .udp, .sctp].randomElement(using: &random)!,
                port: [53, 443, 8080, 8050, 9090, 9050, 50051, 7005, 6379].randomElement(using: &random)!
            )
            let decision = engine.decide(flow)
            verdicts.insert(decision.verdict)
            #expect(engine.allows(flow) == (decision.verdict == .allow))
            #expect(engine.allows(flow, staged: true) == (decision.stagedVerdict == .allow))
        }
        #expect(verdicts == [.allow, .deny])
    }
}
