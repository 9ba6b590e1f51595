import GatehouseCore

/// Runs a conformance corpus: every probe's verdict against its expectation.
public enum ConformanceRunner {
    public struct ProbeResult: Sendable {
        public let caseName: String
        public let source: String
        public let probe: ConformanceCorpus.Probe
        /// The decision, or why there is none (the case's policies did not load, a probe names no pod).
        public let decision: Result<Decision, ResourceErrors>

        public var passed: Bool {
            guard case .success(let decision) = decision else { return false }
            return decision.verdict == probe.expected
        }
    }

    public static func run(_ corpus: ConformanceCorpus) -> [ProbeResult] {
        var results: [ProbeResult] = []
        for testCase in corpus.cases {
            let engine = testCase.bundle.map { PolicyEngine(cluster: $0.cluster, policySet: $0.policySet) }
            for probe in testCase.probes {
                let decision = engine.flatMap { engine -> Result<Decision, ResourceErrors> in
                    do throws(ResourceError) {
                        let flow = Flow(
                            source: try engine.resolve(probe.from),
                            destination: try engine.resolve(probe.to),
                            protocol: probe.protocol,
                            port: probe.port,
                            sourcePort: probe.sourcePort
                        )
                        return .success(engine.decide(flow))
                    } catch {
                        return .failure(ResourceErrors([error]))
                    }
                }
                results.append(
                    ProbeResult(caseName: testCase.name, source: testCase.source, probe: probe, decision: decision)
                )
            }
        }
        return results
    }
}
