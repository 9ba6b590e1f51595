import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseStore
import NIOCore
import Testing

@testable import GatehouseGateway

/// The output a request is reserved for is the output the upstream is told it may produce, and an
/// upstream that produces more is cut there and recorded, never silently undercharged.
@Suite struct OutputBoundTests {
    static let bounded: @Sendable (inout GatewayConfiguration, FixtureModel) -> Void = { configuration, fixture in
        configuration.models = GatewayHarness.fixtureRoutes(fixture).map { route in
            var route = route
            route.maxOutputTokens = route.name == "fixture-large" ? 5 : 6
            if route.name == "fixture-large" { route.maxTokensField = .maxCompletionTokens }
            return route
        }
        configuration.prices["fixture-small"] = ModelPrice(input: Cost(dollars: "1")!, output: Cost(dollars: "2")!)
    }

    static func forwarded(_ fixture: FixtureModel) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(fixture.counters.lastBody.utf8))) as? [String: Any] ?? [:]
    }

    @Test func theBoundReservedForIsTheBoundForwarded() async throws {
        try await GatewayHarness.with(configure: Self.bounded) { harness in
            let key = try await harness.key()
            let fixture = harness.fixture
            #expect(try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status == 200)
            #expect(Self.forwarded(fixture)["max_tokens"] as? Int == 6)
            // The caller's own bound is kept, and also sent in the field this upstream reads.
            let own = GatewayHarness.chat(extra: #","max_completion_tokens":4"#)
            #expect(try await harness.call("/v1/chat/completions", key: key, json: own).status == 200)
            #expect(Self.forwarded(fixture)["max_completion_tokens"] as? Int == 4)
            #expect(Self.forwarded(fixture)["max_tokens"] as? Int == 4)
            let both = GatewayHarness.chat(extra: #","max_tokens":2,"max_completion_tokens":4"#)
            #expect(try await harness.call("/v1/chat/completions", key: key, json: both).status == 200)
            #expect(Self.forwarded(fixture)["max_tokens"] as? Int == 2)
            // The most choices and tokens a request may ask for are counted without overflowing.
            let most = GatewayHarness.chat(extra: #","max_tokens":999999999,"n":128,"best_of":128"#)
            #expect(try await harness.call("/v1/chat/completions", key: key, json: most).status == 200)
            // Completions read only max_tokens: another field beside it is taken out.
            let completion = #"{"model":"fixture-small","prompt":"hi","max_completion_tokens":9}"#
            #expect(try await harness.call("/v1/completions", key: key, json: completion).status == 200)
            #expect(Self.forwarded(fixture)["max_tokens"] as? Int == 6)
            #expect(Self.forwarded(fixture)["max_completion_tokens"] == nil)
            // A model configured for max_completion_tokens (OpenAI's reasoning models refuse max_tokens).
            let large = GatewayHarness.chat("fixture-large")
            #expect(try await harness.call("/v1/chat/completions", key: key, json: large).status == 200)
            #expect(Self.forwarded(fixture)["max_completion_tokens"] as? Int == 5)
            #expect(Self.forwarded(fixture)["max_tokens"] == nil)
            // A null stream_options is replaced by the gateway's own, not doubled.
            let nullOptions = GatewayHarness.chat(stream: true, extra: #","stream_options":null"#)
            let streamed = try await harness.call("/v1/chat/completions", key: key, json: nullOptions)
            #expect(streamed.status == 200)
            #expect(!streamed.body.contains("\"usage\""))
            #expect(fixture.counters.lastBody.components(separatedBy: "\"stream_options\"").count == 2)
            let options = Self.forwarded(fixture)["stream_options"] as? [String: Any]
            #expect(options?["include_usage"] as? Bool == true)
        }
    }

    @Test func zeroTokensOrChoicesAreRefusedAsOpenAIRefusesThem() async throws {
        try await GatewayHarness.with { harness in
            let key = try await harness.key()
            for field in ["max_tokens", "max_completion_tokens", "n"] {
                let answer = try await harness.call(
                    "/v1/chat/completions",
                    key: key,
                    json: GatewayHarness.chat(extra: ",\"\(field)\":0")
                )
                #expect(answer.status == 400)
                #expect(answer.body.contains("\"code\":\"invalid_\(field)\""), "\(answer.body)")
                #expect(answer.body.contains("must be at least 1"))
            }
            #expect(harness.fixture.counters.requests == 0)
        }
    }

    @Test func anUpstreamThatIgnoresItsBoundIsCutThereAndTheOverrunRecorded() async throws {
        var fixture = FixtureModel.Configuration()
        fixture.ignoresMaxTokens = true
        try await GatewayHarness.with(fixture: fixture, configure: Self.bounded) { harness in
            let key = try await harness.key()
            let stream = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(stream: true, extra: #","max_tokens":3"#),
                headers: [("x-request-id", "overrun-stream")]
            )
            #expect(stream.status == 200)
            // The fixture sends twelve words, one per event; three reach the caller, then the end.
            let texts =
                stream.body.components(separatedBy: "\"content\":\"").count
                - stream.body.components(separatedBy: "\"content\":\"\"").count
            #expect(texts == 3, "\(stream.body)")
            #expect(stream.body.contains("\"finish_reason\":\"length\""))
            #expect(stream.body.hasSuffix("data: [DONE]\n\n"))
            let whole = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(extra: #","max_tokens":3"#),
                headers: [("x-request-id", "overrun-whole")]
            )
            #expect(whole.status == 200)
            let entries = try await harness.audit(count: 2)
            let cut = try #require(entries.first { $0.requestID == "overrun-stream" })
            #expect(cut.reason == .outputOverrun)
            #expect((cut.tokensOut ?? 0) >= 3)
            let reported = try #require(entries.first { $0.requestID == "overrun-whole" })
            #expect(reported.reason == .outputOverrun)
            // Charged for what the upstream says it produced: 2 prompt words, 12 answer words.
            #expect(reported.tokensOut == 12)
            #expect(reported.cost == Cost(picodollars: 2 * 1_000_000 + 12 * 2_000_000))
            #expect(await harness.logged("gatehouse.output_bound=3"))
        }
    }

    @Test func theBoundCountsEveryChoiceGenerated() throws {
        let model = ModelRuntime(
            route: ModelRoute(name: "m", upstreams: []),
            index: 0,
            price: ModelPrice(input: Cost(dollars: "1")!, output: Cost(dollars: "1")!),
            upstreams: []
        )
        let identity = Identity(name: "caller", method: .apiKey, labels: [:])
        func plan(_ route: DataPlane.Route, _ json: String) throws -> SpendPlan {
            let body = ByteBuffer(string: json)
            let inspected = try RequestInspector.inspect(body).get()
            return SpendPlan(
                identity: identity,
                model: model,
                route: route,
                inspected: inspected,
                body: body.readableBytesView,
                quotas: []
            )
        }
        let bestOf = try plan(.completions, #"{"model":"m","max_tokens":5,"n":2,"best_of":3}"#)
        #expect(bestOf.outputPerChoice == 5 && bestOf.outputBound == 30)
        let both = try plan(.chatCompletions, #"{"model":"m","max_tokens":50,"max_completion_tokens":70}"#)
        #expect(both.outputBound == 70)
        let completions = try plan(.completions, #"{"model":"m","max_completion_tokens":7}"#)
        #expect(completions.outputPerChoice == 4096)
        #expect(try plan(.embeddings, #"{"model":"m","input":"x"}"#).outputBound == 0)
        // Each prompt of a batch gets its choices; a list of token ids is one prompt.
        let batch = try plan(.completions, #"{"model":"m","max_tokens":5,"n":2,"prompt":["a","b",[1,2]]}"#)
        #expect(batch.outputBound == 30)
        #expect(try plan(.completions, #"{"model":"m","max_tokens":5,"prompt":[1,2,3]}"#).outputBound == 5)
        #expect(try plan(.chatCompletions, #"{"model":"m","max_tokens":5,"prompt":["a","b"]}"#).outputBound == 5)
        let huge = "[" + Array(repeating: "\"x\"", count: 100_000).joined(separator: ",") + "]"
        let most = try plan(
            .completions,
            #"{"model":"m","max_tokens":999999999,"n":128,"best_of":128,"prompt":"# + huge + "}"
        )
        #expect(most.outputBound == SpendPlan.largestOutputBound)
    }
}
