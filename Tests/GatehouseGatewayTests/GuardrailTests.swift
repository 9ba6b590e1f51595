import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import GatehouseGuard
import GatehousePolicy
import GatehouseStore
import NIOCore
import NIOHTTP1
import Testing

/// Guardrails at the front door: prompts blocked, redacted or logged; answers redacted before the bytes
/// leave, streams included, with matches split across events; findings in the audit trail, never the
/// secret itself.
@Suite struct GuardrailTests {
    static func configuration(_ yaml: String) -> String {
        """
        tls: {enabled: false}
        models:
          - name: fixture-small
            upstreams: [{url: "FIXTURE"}]
        access:
          policies:
            - name: everyone
              selector: all()
              rules: [{action: Allow}]
        guardrails:
        \(yaml)
        """
    }

    /// A made-up AWS access key id, built so the source holds no key-shaped literal.
    static let awsKey = "AKIA" + "IOSFODNN7" + "EXAMPLE"

    static func chat(_ content: String, stream: Bool = false) -> String {
        let quoted = String(decoding: try! JSONSerialization.data(withJSONObject: [content]), as: UTF8.self).dropFirst()
            .dropLast()
        return
            "{\"model\":\"fixture-small\",\"stream\":\(stream),\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
            + "{\"role\":\"user\",\"content\":\(quoted)}]}"
    }

    @Test func promptsWithSecretsAreBlockedWithoutReachingTheUpstream() async throws {
        let yaml = Self.configuration(
            """
              - name: no-secrets
                selector: all()
                detectors: [secrets]
                prompts: block
            """
        )
        try await GatewayHarness.with(yaml: yaml) { harness in
            let key = try await harness.key()
            let answer = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: Self.chat("my key is \(Self.awsKey) ok")
            )
            #expect(answer.status == 400)
            #expect(answer.body.contains("\"code\":\"guardrail_blocked\""))
            #expect(answer.body.contains("aws-access-key"))
            #expect(!answer.body.contains(Self.awsKey))
            #expect(harness.fixture.counters.requests == 0)
            let entry = try #require(try await harness.audit().last)
            #expect(entry.decision == .deny)
            let finding = try #require(entry.findings?.first)
            #expect(finding.direction == .prompt && finding.detector == "aws-access-key" && finding.offset > 0)
            #expect(!"\(entry)".contains(Self.awsKey))
            #expect(!harness.logs.text.contains(Self.awsKey))
            // Personal data is not in this policy's detectors.
            #expect(
                try await harness.call("/v1/chat/completions", key: key, json: Self.chat("mail a.b@example.com")).status
                    == 200
            )
        }
    }

    /// Bodies that once took seconds to minutes of one event loop's time (a 633 KiB object of 60,000
    /// keys, 781 KiB and 3.4 MiB of JWT shapes) are answered quickly, and a second client on the same
    /// gateway is answered meanwhile.
    @Test func largeHostileBodiesAreAnsweredQuicklyAndOthersAreNotKeptWaiting() async throws {
        let yaml = Self.configuration(
            """
              - name: no-secrets
                selector: all()
                detectors: [secrets]
                prompts: block
            """
        )
        var keys = "{\"model\":\"fixture-small\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
        for index in 0..<60_000 { keys += ",\"k\(index)\":1" }
        keys += ",\"k59999\":2}"
        let bodies = [
            (keys, "duplicate_field"),
            (Self.chat(String(repeating: "eyJhbGciOi.", count: 781 * 1024 / 11)), "guardrail_blocked"),
            (Self.chat(String(repeating: "eyJhbGciOi.", count: 3400 * 1024 / 11)), "guardrail_blocked"),
            (Self.chat(String(repeating: Self.awsKey + " ", count: 20_000)), "guardrail_blocked"),
        ]
        try await GatewayHarness.with(yaml: yaml) { harness in
            let key = try await harness.key()
            for (body, code) in bodies {
                let clock = ContinuousClock()
                let started = clock.now
                async let hostile = harness.call("/v1/chat/completions", key: key, json: body)
                var slowest = Duration.zero
                for _ in 0..<5 {
                    let asked = clock.now
                    #expect(try await harness.call(.GET, "/v1/models", key: key).status == 200)
                    slowest = max(slowest, clock.now - asked)
                }
                let answer = try await hostile
                let took = clock.now - started
                #expect(answer.status == 400)
                #expect(answer.body.contains("\"code\":\"\(code)\""), "\(answer.body.prefix(200))")
                #expect(took < .seconds(5), "\(body.utf8.count) bytes answered in \(took)")
                #expect(slowest < .seconds(1), "another client waited \(slowest)")
            }
            #expect(harness.fixture.counters.requests == 0)
            // Tens of thousands of matches, but each record keeps a bounded list of them.
            let entries = try await harness.audit(count: 4)
            #expect(entries.allSatisfy { ($0.findings?.count ?? 0) <= 64 })
            #expect(entries.contains { $0.findings?.count == 64 })
        }
    }

    @Test func promptsAreRedactedBeforeTheyAreForwarded() async throws {
        let yaml = Self.configuration(
            """
              - name: pii
                detectors: [personal-data]
                prompts: redact
                answers: log
            """
        )
        try await GatewayHarness.with(yaml: yaml) { harness in
            let key = try await harness.key()
            // The fixture echoes what it was sent: the upstream saw the redacted prompt.
            let answer = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: Self.chat("echo: write to jane.doe@example.com today")
            )
            #expect(answer.status == 200)
            #expect(answer.body.contains("[REDACTED:email]"))
            #expect(!answer.body.contains("jane.doe"))
            let entry = try #require(try await harness.audit().last)
            #expect(entry.findings?.contains { $0.direction == .prompt && $0.detector == "email" } == true)
        }
    }

    @Test func streamedAnswersAreRedactedBeforeTheBytesLeaveEvenWhenSplitAcrossEvents() async throws {
        let yaml = Self.configuration(
            """
              - name: answers
                detectors: [secrets, personal-data]
                prompts: log
                answers: redact
            """
        )
        try await GatewayHarness.with(yaml: yaml) { harness in
            let key = try await harness.key()
            let text = "echo: the key \(Self.awsKey) and mail bob.smith@example.org and card 4111 1111 1111 1111 end"
            for stream in [true, false] {
                let answer = try await harness.call(
                    "/v1/chat/completions",
                    key: key,
                    json: Self.chat(text, stream: stream)
                )
                #expect(answer.status == 200)
                // The fixture sends three characters per event: every match is split across events.
                let content = stream ? Self.streamedContent(answer.body) : answer.body
                #expect(!answer.body.contains("IOSFODNN7"))
                #expect(!answer.body.contains("bob.smith"))
                #expect(!answer.body.contains("4111 1111"))
                #expect(content.contains("[REDACTED:aws-access-key]"))
                #expect(content.contains("[REDACTED:email]"))
                #expect(content.contains("[REDACTED:credit-card]"))
                #expect(content.contains(" end"))
                if stream {
                    #expect(answer.body.hasSuffix("data: [DONE]\n\n"))
                    #expect(
                        content
                            == "the key [REDACTED:aws-access-key] and mail [REDACTED:email] and card [REDACTED:credit-card] end"
                    )
                } else {
                    #expect(Int(answer.headers.first(name: "content-length") ?? "") == answer.body.utf8.count)
                }
            }
            let entries = try await harness.audit(count: 2)
            for entry in entries {
                #expect(entry.findings?.contains { $0.direction == .answer && $0.detector == "aws-access-key" } == true)
                #expect(entry.findings?.contains { $0.direction == .answer && $0.detector == "email" } == true)
            }
        }
    }

    @Test func aBlockingAnswerGuardrailEndsTheStreamWithContentFilter() async throws {
        let yaml = Self.configuration(
            """
              - name: stop-secrets
                detectors: [secrets]
                prompts: log
                answers: block
            """
        )
        try await GatewayHarness.with(yaml: yaml) { harness in
            let key = try await harness.key()
            let text = "echo: safe words first then \(Self.awsKey) and more"
            let streamed = try await harness.call("/v1/chat/completions", key: key, json: Self.chat(text, stream: true))
            #expect(streamed.status == 200)
            #expect(!streamed.body.contains("AKIA"))
            #expect(streamed.body.contains("\"finish_reason\":\"content_filter\""))
            #expect(streamed.body.hasSuffix("data: [DONE]\n\n"))
            #expect(Self.streamedContent(streamed.body).hasPrefix("safe words first"))
            let whole = try await harness.call("/v1/chat/completions", key: key, json: Self.chat(text))
            #expect(whole.status == 200)
            #expect(!whole.body.contains("AKIA"))
            #expect(whole.body.contains("\"finish_reason\":\"content_filter\""))
        }
    }

    @Test func compressedBodiesAreRefusedUninspected() async throws {
        let yaml = Self.configuration("  - name: all\n")
        try await GatewayHarness.with(yaml: yaml) { harness in
            let key = try await harness.key()
            let answer = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: Self.chat("hello"),
                headers: [("content-encoding", "gzip")]
            )
            #expect(answer.status == 415)
            #expect(answer.body.contains("\"code\":\"compressed_body\""))
            #expect(harness.fixture.counters.requests == 0)
        }
    }

    @Test func guardrailConfigurationErrorsNameTheField() throws {
        let bad = Self.configuration(
            """
              - name: custom
                patterns: [{name: broken, pattern: "a(b"}]
            """
        )
        do {
            _ = try GatewayConfiguration.decode(
                text: bad.replacingOccurrences(of: "FIXTURE", with: "http://127.0.0.1:1"),
                file: "g.yaml"
            )
            Issue.record("an invalid pattern must be refused")
        } catch {
            #expect("\(error)".contains("g.yaml:"))
            #expect("\(error)".contains("broken"))
        }
        let unknown = Self.configuration("  - name: x\n    detectors: [dna]\n")
        do {
            _ = try GatewayConfiguration.decode(
                text: unknown.replacingOccurrences(of: "FIXTURE", with: "http://127.0.0.1:1"),
                file: "g.yaml"
            )
            Issue.record("an unknown detector must be refused")
        } catch {
            #expect("\(error)".contains("unknown detector \"dna\""))
        }
    }

    /// The text of a stream's `delta.content` pieces, in order.
    static func streamedContent(_ body: String) -> String {
        body.components(separatedBy: "\n\n").compactMap { event -> String? in
            guard event.hasPrefix("data: {"),
                let object = try? JSONSerialization.jsonObject(with: Data(event.dropFirst(6).utf8)) as? [String: Any],
                let choices = object["choices"] as? [[String: Any]],
                let delta = choices.first?["delta"] as? [String: Any]
            else { return nil }
            return delta["content"] as? String
        }.joined()
    }

    @Test func aPromptFindingsOffsetIsWhereTheMatchStartsInTheBody() throws {
        var policy = GuardrailPolicy(name: "log", selector: .all, scanner: try GuardScanner())
        policy.prompts = .log
        let body = #"{"model":"m","messages":[{"role":"user","content":"mail jane@example.com"}]}"#
        let verdict = PromptGuard.check(ByteBuffer(string: body), policies: [policy])
        let start = try #require(body.utf8.firstRange(of: "jane@".utf8)).lowerBound
        #expect(verdict.findings.map(\.offset) == [body.utf8.distance(from: body.utf8.startIndex, to: start)])
    }
}
