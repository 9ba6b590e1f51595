import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import GatehouseStore
import NIOCore
import Testing

/// Token accounting and the audit trail, end to end: what the upstream reports, what the gateway
/// counts when it reports nothing or lies, cut streams, and the hash chain.
@Suite struct AccountingTests {
    /// $1 per million input tokens, $2 per million output tokens for fixture-small.
    static let priced: @Sendable (inout GatewayConfiguration, FixtureModel) -> Void = { configuration, _ in
        configuration.prices["fixture-small"] = ModelPrice(input: Cost(dollars: "1")!, output: Cost(dollars: "2")!)
    }

    @Test func reportedUsageIsRecordedWithItsCost() async throws {
        try await GatewayHarness.with(configure: Self.priced) { harness in
            let key = try await harness.key("alice", labels: ["team": "search"])
            let answer = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(extra: #","max_tokens":5"#),
                headers: [("x-request-id", "accounting-1")]
            )
            #expect(answer.status == 200)
            // The record is durable before the answer's last byte leaves: in the gateway's journal, or already
            // moved from there into the store (looked for in that order, so a move in between is no gap).
            let folder = harness.dataDirectory.appending(path: "ledger")
            let journaled = try FileManager.default.contentsOfDirectory(atPath: folder.path).contains { name in
                let text = try? String(contentsOf: folder.appending(path: name), encoding: .utf8)
                return text?.contains("accounting-1") == true
            }
            var query = AuditQuery()
            query.identity = "alice"
            let stored = try harness.store.auditRecords(query).contains { $0.entry.requestID == "accounting-1" }
            #expect(journaled || stored)
            let entry = try #require(try await harness.audit().last)
            #expect(entry.requestID == "accounting-1")
            #expect(entry.decision == .allow)
            #expect(entry.status == 200)
            #expect(entry.model == "fixture-small")
            #expect(entry.identityLabels?["team"] == "search")
            #expect(entry.keyID?.count == 8)
            // The fixture counts two prompt words and answers five words.
            #expect(entry.tokensIn == 2)
            #expect(entry.tokensOut == 5)
            #expect(entry.tokensEstimated == false)
            #expect(entry.cost == Cost(picodollars: 2 * 1_000_000 + 5 * 2_000_000))
            #expect(entry.trace?.isEmpty == false)
            #expect(entry.latencyMilliseconds ?? -1 >= 0)
            #expect(entry.client?.hasPrefix("127.0.0.1:") == true)
        }
    }

    @Test func streamsAreAskedForUsageWhichTheCallerDoesNotSeeUnlessItAsked() async throws {
        try await GatewayHarness.with(configure: Self.priced) { harness in
            let key = try await harness.key()
            let plain = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(stream: true, extra: #","max_tokens":4"#)
            )
            #expect(plain.status == 200)
            #expect(!plain.body.contains("\"usage\""))
            #expect(plain.body.contains("data: [DONE]"))
            let asked = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(
                    stream: true,
                    extra: #","max_tokens":4,"stream_options":{"include_usage":true}"#
                )
            )
            #expect(asked.body.contains("\"usage\":{"))
            let entries = try await harness.audit(count: 2)
            #expect(entries.count == 2)
            for entry in entries {
                #expect(entry.tokensIn == 2)
                #expect(entry.tokensOut == 4)
                #expect(entry.tokensEstimated == false)
                #expect(entry.timeToFirstTokenMilliseconds != nil)
            }
        }
    }

    @Test func withoutReportedUsageTokensAreCountedAndMarkedEstimated() async throws {
        var fixture = FixtureModel.Configuration()
        fixture.usage = .omitted
        try await GatewayHarness.with(fixture: fixture, configure: Self.priced) { harness in
            let key = try await harness.key()
            for stream in [false, true] {
                let answer = try await harness.call(
                    "/v1/chat/completions",
                    key: key,
                    json: GatewayHarness.chat(stream: stream)
                )
                #expect(answer.status == 200)
            }
            let entries = try await harness.audit(count: 2)
            #expect(entries.count == 2)
            // The answer "This is the Gatehouse fixture model, not a real model; it answers" counted by the
            // documented method: 12 word pieces and 2 punctuation marks, no piece over four letters twice.
            let expected = TokenEstimator.count(
                Array("This is the Gatehouse fixture model, not a real model; it answers".utf8)
            )
            for entry in entries {
                #expect(entry.tokensEstimated == true)
                #expect(entry.tokensOut == expected)
                #expect((entry.tokensIn ?? 0) > 0)
                #expect((entry.cost ?? .zero) > .zero)
            }
        }
    }

    @Test func aCutStreamIsAccountedForWhatWasSent() async throws {
        var fixture = FixtureModel.Configuration()
        fixture.cutStreamAfterEvents = 4
        try await GatewayHarness.with(fixture: fixture, configure: Self.priced) { harness in
            let key = try await harness.key()
            _ = try? await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat(stream: true))
            let entry = try #require(try await harness.audit().last)
            #expect(entry.reason == .streamInterrupted)
            #expect(entry.tokensEstimated == true)
            // Three content events arrived: "This", " is", " the".
            #expect(entry.tokensOut == 3)
        }
    }

    @Test func everyRequestIsAuditedAndTheChainDetectsEditsAndRemovals() async throws {
        try await GatewayHarness.with { harness in
            let key = try await harness.key("bob")
            #expect(try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status == 200)
            #expect(
                try await harness.call("/v1/chat/completions", key: "ghk_wrong", json: GatewayHarness.chat()).status
                    == 401
            )
            #expect(try await harness.call("/v1/chat/completions", key: key, json: "{").status == 400)
            #expect(try await harness.call("/api/pull", key: key, json: "{}").status == 404)
            // Records reach the store in batches: wait for the last request's.
            let all = try await harness.audit(route: nil, count: 5) { $0.contains { $0.status == 404 } }
            let denied = all.filter { $0.decision == .deny }
            #expect(Set(denied.map(\.status)) == [401, 400, 404])
            #expect(denied.first { $0.status == 401 }?.identity == nil)
            // Nothing secret in the trail.
            var query = AuditQuery()
            query.limit = 1000
            let text = try harness.store.auditRecords(query).map { "\($0.entry)" }.joined()
            #expect(!text.contains(key))
            #expect(try harness.store.verifyAudit().intact)

            // A record with one after it (the loops' journals are moved together, so the order of
            // requests made one after another is not the order of the trail).
            let target = try #require(try harness.store.auditRecords(query).dropLast().first)
            let database = harness.dataDirectory.appending(path: Store.fileName).path
            try SQLiteShell.run(
                database,
                """
                UPDATE audit SET record = replace(record, '"status":\(target.entry.status)', '"status":999')
                WHERE seq = \(target.sequence)
                """
            )
            let edited = try harness.store.verifyAudit()
            #expect(edited.firstBreak?.sequence == target.sequence)
            #expect(edited.firstBreak?.problem.contains("changed") == true)
            try SQLiteShell.run(database, "DELETE FROM audit WHERE seq = \(target.sequence)")
            let removed = try harness.store.verifyAudit()
            #expect(removed.firstBreak?.sequence == target.sequence + 1)
            #expect(removed.firstBreak?.problem.contains("missing") == true)
        }
    }
}
