import Foundation
import GatehouseCore
import GatehousePolicy
import Testing

@Suite("Conformance corpus")
struct ConformanceCorpusTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Conformance")

    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }()

    @Test("the corpus is present")
    func present() {
        #expect(
            Set(Self.files).isSuperset(of: [
                "admin-network-policy.json", "calico-services.json", "calico.json", "edge-cases.json", "k8s-e2e.json",
                "netpol-doc-examples.json",
            ])
        )
    }

    @Test("every probe passes", arguments: files)
    func corpus(file: String) throws {
        let path = Self.folder.appendingPathComponent(file).path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let corpus = try ConformanceCorpus(text: text, file: file)
        let results = ConformanceRunner.run(corpus)
        #expect(results.count > 0)
        for result in results where !result.passed {
            let actual: String
            switch result.decision {
            case .success(let decision): actual = "\(decision.verdict): \(decision.summary)"
            case .failure(let errors): actual = "error: \(errors)"
            }
            Issue.record(
                "\(result.caseName) \(result.probe.from) -> \(result.probe.to) \(result.probe.port): expected \(result.probe.expected), got \(actual)"
            )
        }
        for testCase in corpus.cases {
            #expect(!testCase.source.isEmpty, "case \(testCase.name) says where its expectation comes from")
        }
    }

    @Test("a failing probe is reported with its trace, not hidden")
    func failingProbe() throws {
        let text = """
            {"cases": [{"name": "wrong", "source": "test",
              "namespaces": {"x": {"labels": {}}},
              "pods": [{"namespace": "x", "name": "a", "ip": "10.0.0.1"}, {"namespace": "x", "name": "b", "ip": "10.0.0.2"}],
              "policies": [{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                            "metadata": {"name": "deny", "namespace": "x"}, "spec": {"podSelector": {}}}],
              "probes": [{"from": "x/a", "to": "x/b", "port": 80, "expected": "allow"},
                         {"from": "x/a", "to": "x/missing", "port": 80, "expected": "deny"}]}]}
            """
        let results = ConformanceRunner.run(try ConformanceCorpus(text: text, file: "wrong.json"))
        #expect(results.map(\.passed) == [false, false])
        guard case .success(let decision) = results[0].decision else {
            Issue.record("the first probe should have a decision")
            return
        }
        #expect(decision.ingress.enforced.outcome.reason == .endOfTier)
        guard case .failure(let errors) = results[1].decision else {
            Issue.record("the second probe names no pod")
            return
        }
        #expect(errors.errors.first?.code == .unknownReference)
    }
}
