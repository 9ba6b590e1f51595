import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

/// The OpenAI routes end to end on loopback: a key, the gateway, the fixture model.
@Suite struct ProxyTests {
    @Test func chatCompletionsEmbeddingsAndModelsPassThrough() async throws {
        try await GatewayHarness.with { harness in
            let key = try await harness.key()
            let chat = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
            #expect(chat.status == 200)
            #expect(chat.body.contains("\"object\":\"chat.completion\""))
            #expect(chat.body.contains("Gatehouse fixture model"))
            // The upstream's own identity stays behind; the answer's type and length come through.
            #expect(chat.headers["server"].isEmpty)
            #expect(chat.headers.first(name: "content-type") == "application/json")
            #expect(chat.headers.first(name: "content-length") == String(chat.body.utf8.count))
            let completion = try await harness.call(
                "/v1/completions",
                key: key,
                json: #"{"model":"fixture-large","prompt":"one two","max_tokens":3}"#
            )
            #expect(completion.status == 200)
            #expect(completion.body.contains("\"text\":\"This is the\""))
            let embedding = try await harness.call(
                "/v1/embeddings",
                key: key,
                json: #"{"model":"fixture-embedding","input":["a","b"]}"#
            )
            #expect(embedding.status == 200)
            #expect(embedding.body.contains("\"index\":1"))
            let models = try await harness.call(.GET, "/v1/models", key: key)
            #expect(models.status == 200)
            #expect(models.body.contains("\"id\":\"fixture-small\""))
        }
    }

    @Test func requestIDIsTakenOrMadeAndPassedUpstream() async throws {
        try await GatewayHarness.with { harness in
            let key = try await harness.key()
            let supplied = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(),
                headers: [("x-request-id", "trace-42")]
            )
            #expect(supplied.headers.first(name: "x-request-id") == "trace-42")
            #expect(harness.fixture.counters.lastHeader("x-request-id") == ["trace-42"])
            let hostile = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(),
                headers: [("x-request-id", "<script>")]
            )
            let made = try #require(hostile.headers.first(name: "x-request-id"))
            // A version-4-shaped UUID, which strict upstreams require.
            #expect(UUID(uuidString: made) != nil && made.count == 36 && Array(made)[14] == "4")
            #expect("89ab".contains(Array(made)[19]))
        }
    }

    @Test func callersAuthorizationNeverReachesTheUpstreamButItsOwnCredentialDoes() async throws {
        try await GatewayHarness.with(
            configure: { configuration, fixture in
                configuration.models[0].upstreams[0].credential = Secret("sk-upstream-canary-6d1f")
            },
            { harness in
                let key = try await harness.key()
                let answer = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
                #expect(answer.status == 200)
                #expect(harness.fixture.counters.lastHeader("authorization") == ["Bearer sk-upstream-canary-6d1f"])
                #expect(!harness.logs.text.contains("sk-upstream-canary"))
                #expect(!harness.logs.text.contains(key))
                #expect(!answer.body.contains("canary"))
            }
        )
    }

    @Test func streamingPassesEventsAsTheyArrive() async throws {
        let fixture = FixtureModel.Configuration(eventInterval: .milliseconds(60))
        try await GatewayHarness.with(fixture: fixture) { harness in
            let key = try await harness.key()
            var request = HTTPClientRequestFactory.post(
                harness.base + "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(stream: true, extra: #","stream_options":{"include_usage":true}"#)
            )
            request.headers.add(name: "accept", value: "text/event-stream")
            let started = ContinuousClock.now
            let response = try await harness.client.execute(request, timeout: .seconds(10))
            #expect(response.status.code == 200)
            #expect(response.headers.first(name: "content-type") == "text/event-stream")
            var arrivals: [Duration] = []
            var text = ""
            for try await chunk in response.body {
                arrivals.append(ContinuousClock.now - started)
                text += String(buffer: chunk)
            }
            #expect(text.hasSuffix("data: [DONE]\n\n"))
            #expect(text.contains("\"usage\""))
            // 16 events 60 ms apart: the first must arrive long before the last is produced.
            let first = try #require(arrivals.first)
            let last = try #require(arrivals.last)
            #expect(arrivals.count >= 10)
            #expect(last - first > .milliseconds(600))
        }
    }

    @Test func clientDisconnectCancelsTheUpstreamStream() async throws {
        // 16 events 250 ms apart: the client leaves long before the last, even on a loaded machine.
        let fixture = FixtureModel.Configuration(eventInterval: .milliseconds(250))
        try await GatewayHarness.with(fixture: fixture) { harness in
            let key = try await harness.key()
            let body = GatewayHarness.chat(stream: true)
            let request =
                "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer \(key)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let exchange = try await RawClient.exchange(port: harness.dataPort, [request], timeout: .milliseconds(1500))
            #expect(exchange.response.hasPrefix("HTTP/1.1 200 OK"))
            #expect(!exchange.closed)
            // The client is gone; the fixture notices at its next event.
            var abandoned = 0
            for _ in 0..<30 where abandoned == 0 {
                try await Task.sleep(for: .milliseconds(100))
                abandoned = harness.fixture.counters.streamsAbandoned
            }
            #expect(abandoned == 1)
            #expect(harness.fixture.counters.streamsFinished == 0)
        }
    }

    @Test func aliasesResolveAndTheUpstreamSeesItsOwnModelName() async throws {
        try await GatewayHarness.with(
            configure: { configuration, fixture in
                configuration.models = [
                    ModelRoute(
                        name: "house-chat",
                        aliases: ["chat"],
                        upstreams: [
                            {
                                var upstream = UpstreamSettings(url: fixture.baseURL)!
                                upstream.model = "fixture-large"
                                return upstream
                            }()
                        ]
                    )
                ]
            },
            { harness in
                let key = try await harness.key()
                let answer = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat("chat"))
                #expect(answer.status == 200)
                #expect(answer.body.contains("\"model\":\"fixture-large\""))
                let models = try await harness.call(.GET, "/v1/models", key: key)
                #expect(models.body.contains("\"id\":\"house-chat\"") && models.body.contains("\"id\":\"chat\""))
            }
        )
    }

    @Test func failoverOnFiveHundredsAndConnectErrors() async throws {
        let broken = try await FixtureModel.start(configuration: .init(failureStatus: 503))
        let closedPort = try await FixtureModel.start()
        let deadURL = closedPort.baseURL
        try await closedPort.stop()
        try await GatewayHarness.with(
            configure: { configuration, fixture in
                configuration.models = [
                    ModelRoute(
                        name: "fixture-small",
                        upstreams: [
                            UpstreamSettings(url: deadURL)!, UpstreamSettings(url: broken.baseURL)!,
                            UpstreamSettings(url: fixture.baseURL)!,
                        ]
                    )
                ]
            },
            { harness in
                let key = try await harness.key()
                let answer = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
                #expect(answer.status == 200)
                // The dead upstream is tried last once a health check has found it down; the 503 one is tried first.
                #expect(broken.counters.requests == 1)
                #expect(await harness.logged("gatehouse.attempts="))
                #expect(
                    harness.logs.text.contains("gatehouse.attempts=2")
                        || harness.logs.text.contains("gatehouse.attempts=3")
                )
            }
        )
        try await broken.stop()
    }

    /// A 5xx may carry the model server's internals (a stack trace, paths, versions): the caller gets the
    /// gateway's own 502 with the request id, and the upstream's text goes to the log.
    @Test func anUpstreamsFiveHundredIsLoggedNotRelayedAndNoAnswerIsA502() async throws {
        let broken = try await FixtureModel.start(configuration: .init(failureStatus: 500))
        let closed = try await FixtureModel.start()
        let deadURL = closed.baseURL
        try await closed.stop()
        try await GatewayHarness.with(
            configure: { configuration, _ in
                configuration.models = [
                    ModelRoute(name: "fixture-small", upstreams: [UpstreamSettings(url: broken.baseURL)!]),
                    ModelRoute(name: "fixture-large", upstreams: [UpstreamSettings(url: deadURL)!]),
                ]
            },
            { harness in
                let key = try await harness.key()
                let failing = try await harness.call(
                    "/v1/chat/completions",
                    key: key,
                    json: GatewayHarness.chat(),
                    headers: [("x-request-id", "five-hundred")]
                )
                #expect(failing.status == 502)
                #expect(failing.body.contains("\"code\":\"upstream_unavailable\""))
                #expect(failing.body.contains("\"request_id\":\"five-hundred\""))
                #expect(!failing.body.contains("the fixture was told to fail"))
                #expect(await harness.logged("gatehouse.upstream_error="))
                #expect(harness.logs.text.contains("the fixture was told to fail"))
                #expect(await harness.logged("gatehouse.reason=upstream_error_status"))
                #expect(await harness.logged("gatehouse.upstream_status=500"))
                let unreachable = try await harness.call(
                    "/v1/chat/completions",
                    key: key,
                    json: GatewayHarness.chat("fixture-large")
                )
                #expect(unreachable.status == 502)
                #expect(unreachable.body.contains("\"code\":\"upstream_unavailable\""))
                #expect(!unreachable.body.contains("127.0.0.1"))
            }
        )
        try await broken.stop()
    }

    @Test func silentAndStalledUpstreamsAreCutByTheirTimeouts() async throws {
        // An upstream that takes connections and never answers, and one that pauses 2 s before each event.
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let stalling = try await FixtureModel.start(configuration: .init(eventInterval: .seconds(2)))
        let silentPort = silent.localAddress?.port ?? 0
        try await GatewayHarness.with(
            configure: { configuration, _ in
                var quiet = UpstreamSettings(url: "http://127.0.0.1:\(silentPort)")!
                quiet.responseTimeout = .milliseconds(300)
                var slow = UpstreamSettings(url: stalling.baseURL)!
                slow.idleTimeout = .milliseconds(300)
                configuration.models = [
                    ModelRoute(name: "fixture-small", upstreams: [quiet]),
                    ModelRoute(name: "fixture-large", upstreams: [slow]),
                ]
            },
            { harness in
                let key = try await harness.key()
                let started = ContinuousClock.now
                let unanswered = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
                #expect(unanswered.status == 502)
                #expect(ContinuousClock.now - started >= .milliseconds(300))
                #expect(await harness.logged("gatehouse.reason=upstream_timeout"))
                // The stream's head is relayed, then nothing comes for longer than the idle timeout.
                let body = GatewayHarness.chat("fixture-large", stream: true)
                let request =
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(key)\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
                let cut = try await RawClient.exchange(port: harness.dataPort, [request], timeout: .seconds(5))
                #expect(cut.response.hasPrefix("HTTP/1.1 200"))
                #expect(cut.closed && cut.elapsed < .milliseconds(1800))
                #expect(!cut.response.contains("data:"))
                #expect(await harness.logged("gatehouse.reason=stream_interrupted"))
                // The gateway closed its connection to the stalled upstream: its next event finds it gone.
                for _ in 0..<40 where stalling.counters.streamsAbandoned == 0 {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(stalling.counters.streamsAbandoned == 1)
            }
        )
        try await stalling.stop()
        try await silent.close()
    }
}
