import Foundation
import GatehouseCore
import GatehouseFlows
import GatehousePolicy
import GatehouseStore
import Testing

/// Flow logs from Hubble and Calico (examples/flows), mapped onto examples/ai-namespace and evaluated.
@Suite struct FlowImportTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appending(path: "examples")

    static func reader() throws -> FlowLogReader {
        var reader = FlowLogReader()
        for name in ["hubble.jsonl", "calico.jsonl"] {
            let url = examples.appending(path: "flows/\(name)")
            reader.read(try String(contentsOf: url, encoding: .utf8), file: name)
        }
        return reader
    }

    static func engine(_ folder: String) throws -> PolicyEngine {
        let bundle = try ResourceLoader().load(paths: [examples.appending(path: folder).path])
        return PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
    }

    @Test func linesAreReadSkippedOrReportedWithTheirNumbers() throws {
        let reader = try Self.reader()
        #expect(reader.lines == 11)
        #expect(reader.flows.count == 7)
        // A reply and a TRACED event are not policy verdicts on new connections.
        #expect(reader.skipped == 2)
        #expect(
            reader.problems.map(\.description) == [
                "hubble.jsonl:7: not a JSON object", "calico.jsonl:3: unknown action Maybe",
            ]
        )
        let first = try #require(reader.flows.first)
        #expect(first.format == .hubble)
        // Nanoseconds cut to milliseconds.
        #expect(abs(first.start.timeIntervalSince1970 - 1_795_752_001.123) < 0.0005)
        #expect(first.source.labels == ["app": "frontend"])
        #expect(first.destination.name == "rag-api")
        #expect(first.port == 8080)
        #expect(first.reporter == .destination)
        let world = try #require(reader.flows.first { $0.destination.kind == .network })
        #expect(world.destination.peer == FlowPeer(kind: .network, name: "203.0.113.50"))
        let calico = try #require(reader.flows.first { $0.format == .calico })
        #expect(calico.source.namePrefix == "frontend")
        #expect(calico.destination.labels == ["app": "rag-api", "role": "app"])
        #expect(calico.counters.requests == 3)
        #expect(calico.counters.bytesOut == 9100)
        #expect(calico.policies.enforced.first?.policy.name == "rag-api")
    }

    @Test func flowsAreEvaluatedAndDisagreementsAndProposedChangesFound() throws {
        let reader = try Self.reader()
        let evaluation = FlowEvaluation(
            reader.flows,
            engine: try Self.engine("ai-namespace"),
            proposed: try Self.engine("ai-namespace-proposed")
        )
        #expect(evaluation.outcomes.allSatisfy { $0.decision != nil })
        // Observed allowed, but the loaded policies deny: rag-api's egress is not allowed there.
        let disagreements = evaluation.disagreements.map { "\($0.decision!.destination):\($0.observed.port!)" }
        #expect(disagreements == ["ai/vllm-0:9000", "ip:203.0.113.50:443"])
        let changes = evaluation.changes.map {
            "\($0.decision!.source)>\($0.decision!.destination):\($0.observed.port!)"
        }
        #expect(
            changes == ["web/frontend>ai/vllm-0:8000", "ai/rag-api>ai/vllm-0:9000", "ai/rag-api>ip:203.0.113.50:443"]
        )
        let records = evaluation.records
        let denied = try #require(records.first { $0.action == .deny })
        #expect(denied.reason == "POLICY_DENIED")
        #expect(
            denied.policies.enforced.contains { $0.endOfTier && $0.policy.name == "default-deny" && $0.action == .deny }
        )
        // A Calico flow keeps its counters and gets the loaded set's trace.
        let calico = try #require(records.first { $0.source.name == "frontend*" })
        #expect(calico.counters.requests == 3)
        #expect(calico.policies.enforced.contains { $0.policy.name == "rag-api" && $0.action == .allow })
    }

    @Test func withoutAPolicySetTheLogsOwnTraceIsKept() throws {
        let records = FlowEvaluation(try Self.reader().flows, engine: nil).records
        #expect(records.count == 7)
        let monitoring = try #require(records.first { $0.source.name == "prometheus-0" })
        #expect(monitoring.policies.enforced.first?.policy.tier == "admin")
        #expect(records.first { $0.destination.name == "vllm-0" && $0.port == 8000 }?.action == .deny)
    }
}
