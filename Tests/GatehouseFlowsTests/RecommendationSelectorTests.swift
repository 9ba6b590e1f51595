import Foundation
import GatehouseCore
import GatehouseFlows
import GatehousePolicy
import GatehouseTesting
import Testing

/// A workload's selector leaves out pods whose labels hold all of its labels and more (a canary).
@Suite struct RecommendationSelectorTests {
    static let cluster = """
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: v1, kind: Namespace, metadata: {name: ai}}
        - {apiVersion: v1, kind: Namespace, metadata: {name: web}}
        - apiVersion: v1
          kind: Pod
          metadata: {name: vllm-0, namespace: ai, labels: {app: vllm, pod-template-hash: abc}}
          status: {podIP: 10.0.1.10}
        - apiVersion: v1
          kind: Pod
          metadata: {name: vllm-canary, namespace: ai, labels: {app: vllm, track: canary}}
          status: {podIP: 10.0.1.11}
        - apiVersion: v1
          kind: Pod
          metadata: {name: frontend, namespace: web, labels: {app: frontend}}
          status: {podIP: 10.0.2.20}
        """

    @Test(arguments: PolicyRecommendation.Flavor.allCases)
    func aCanaryWithAnExtraLabelGetsNothingTheObservedWorkloadGot(flavor: PolicyRecommendation.Flavor) throws {
        let loader = ResourceLoader(strict: true)
        var bundle = try loader.load(text: Self.cluster, file: "cluster.yaml")
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let flows = [
            FlowRecord(
                start: start,
                source: FlowPeer(kind: .workload, namespace: "web", name: "frontend"),
                destination: FlowPeer(kind: .workload, namespace: "ai", name: "vllm-0"),
                protocol: "TCP",
                port: 8000,
                action: .allow,
                reporter: .destination
            ),
            FlowRecord(
                start: start,
                source: FlowPeer(kind: .workload, namespace: "ai", name: "vllm-0"),
                destination: FlowPeer(kind: .workload, namespace: "web", name: "frontend"),
                protocol: "TCP",
                port: 80,
                action: .allow,
                reporter: .source
            ),
        ]
        let traffic = ObservedTraffic(flows: flows, cluster: bundle.cluster)
        let vllm = try #require(traffic.workloads.first { $0.name == "vllm" })
        #expect(vllm.labels == ["app": "vllm"])
        #expect(vllm.excludedKeys == ["track"])
        let recommended = try loader.load(text: PolicyRecommendation(traffic: traffic).yaml(flavor), file: "r.yaml")
        bundle.policySet = recommended.policySet
        let fixture = PolicyFixture(bundle: bundle)
        func verdict(_ from: String, _ to: String, _ port: UInt16) throws -> Verdict {
            try fixture.verdict(from, to, port: port)
        }
        #expect(try verdict("web/frontend", "ai/vllm-0", 8000) == .allow)
        #expect(try verdict("ai/vllm-0", "web/frontend", 80) == .allow)
        #expect(try verdict("web/frontend", "ai/vllm-canary", 8000) == .deny)
        #expect(try verdict("ai/vllm-canary", "web/frontend", 80) == .deny)
    }
}
