import Benchmark
import Foundation
import GatehouseCore
import GatehousePolicy
import GatehouseTesting
import Yams

// The policy engine on the synthetic cluster (2,000 pods, 100 namespaces, 1,000 policies, 5 Calico tiers).
// Run: swift package --package-path Benchmarks benchmark
let benchmarks: @Sendable () -> Void = {
    let text = SyntheticCluster().files().map(\.text).joined(separator: "---\n")
    let bundle = try! ResourceLoader().load(text: text, file: "synthetic.yaml")
    let engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
    var random = SeededGenerator(seed: 1)
    let endpoints = engine.matrixEndpoints
    let ports: [UInt16] = [53, 443, 8080, 8050, 9090, 50051, 7005, 6379]
    let flows = (0..<100_000).map { _ in
        Flow(
            source: endpoints.randomElement(using: &random)!,
            destination: endpoints.randomElement(using: &random)!,
            protocol: .tcp,
            port: ports.randomElement(using: &random)!
        )
    }

    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .peakMemoryResident],
        maxDuration: .seconds(5)
    )

    Benchmark("load and compile the policy set (YAML text to engine)", configuration: .init(maxIterations: 20)) {
        benchmark in
        for _ in benchmark.scaledIterations {
            let bundle = try ResourceLoader().load(text: text, file: "synthetic.yaml")
            blackHole(PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet))
        }
    }

    Benchmark("load only (YAML text to objects)", configuration: .init(maxIterations: 20)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try ResourceLoader().load(text: text, file: "synthetic.yaml")) }
    }

    // For comparison: libyaml through Yams building its node tree, which the loader falls back to.
    Benchmark("Yams compose alone (same text)", configuration: .init(maxIterations: 10)) { benchmark in
        for _ in benchmark.scaledIterations {
            var documents = 0
            for node in try Yams.compose_all(yaml: text) where node != nil { documents += 1 }
            blackHole(documents)
        }
    }

    Benchmark("compile only (decoded policy set to engine)", configuration: .init(maxIterations: 20)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet))
        }
    }

    // One iteration is one decision; scaled by a million so throughput reads as decisions per second.
    Benchmark("decision (verdict only)", configuration: .init(scalingFactor: .mega)) { benchmark in
        var allowed = 0
        for index in benchmark.scaledIterations where engine.allows(flows[index % flows.count]) { allowed += 1 }
        blackHole(allowed)
    }

    Benchmark("decision with trace (explain)", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for index in benchmark.scaledIterations { blackHole(engine.decide(flows[index % flows.count])) }
    }
}
