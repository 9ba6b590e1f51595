import Foundation
import GatehouseFixtureModel
import GatehouseGateway
import Testing

/// The gateway's HTTP/1.1 client to its upstreams, on the wire: bodies the close delimits, answers it
/// cannot read, and lengths it cannot keep.
@Suite struct UpstreamConnectionTests {
    private static let events =
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n"
        + "data: [DONE]\n\n"

    private static func request(_ key: String, body: String, connection: String = "close") -> String {
        "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(key)\r\n"
            + "Connection: \(connection)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// Runs `body` against a gateway whose `fixture-small` is served by `upstream`.
    private static func through(
        _ upstream: CannedUpstream,
        _ body: @escaping @Sendable (GatewayHarness, String) async throws -> Void
    ) async throws {
        let url = upstream.url
        try await GatewayHarness.with(
            configure: { configuration, _ in
                configuration.models = [ModelRoute(name: "fixture-small", upstreams: [UpstreamSettings(url: url)!])]
            },
            { harness in try await body(harness, try await harness.key()) }
        )
        try await upstream.stop()
    }

    @Test func aBodyEndedByTheUpstreamsOrderlyCloseIsRelayedWhole() async throws {
        let upstream = try await CannedUpstream.start(
            answer: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n" + Self.events,
            ending: .close
        )
        try await Self.through(upstream) { harness, key in
            let exchange = try await RawClient.exchange(
                port: harness.dataPort,
                [Self.request(key, body: GatewayHarness.chat(stream: true))]
            )
            #expect(exchange.response.hasPrefix("HTTP/1.1 200"))
            #expect(exchange.response.lowercased().contains("transfer-encoding: chunked"))
            #expect(exchange.response.hasSuffix("data: [DONE]\n\n\r\n0\r\n\r\n"))
        }
    }

    @Test func aBodyCutByAResetIsNotRelayedAsComplete() async throws {
        let upstream = try await CannedUpstream.start(
            answer: "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n" + Self.events,
            ending: .reset
        )
        try await Self.through(upstream) { harness, key in
            let exchange = try await RawClient.exchange(
                port: harness.dataPort,
                [Self.request(key, body: GatewayHarness.chat(stream: true), connection: "keep-alive")]
            )
            #expect(exchange.response.hasPrefix("HTTP/1.1 200"))
            // The client is told by the connection's end, without the last chunk that would say "complete".
            #expect(exchange.closed)
            #expect(!exchange.response.hasSuffix("0\r\n\r\n"))
            #expect(await harness.logged("gatehouse.reason=stream_interrupted"))
        }
    }

    @Test func anAnswerTheGatewayCannotReadIsA502() async throws {
        let upstream = try await CannedUpstream.start(
            answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            ending: .none
        )
        try await Self.through(upstream) { harness, key in
            let answer = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
            #expect(answer.status == 502)
            #expect(answer.body.contains("\"code\":\"upstream_unavailable\""))
            #expect(await harness.logged("gatehouse.reason=upstream_unreadable"))
        }
    }

    @Test func aStreamedErrorWithALengthKeepsTheConnectionInStep() async throws {
        // The caller asked for usage itself, so nothing is injected; the upstream refuses with a JSON body
        // and a length, which the relay ends as a stream event (a blank line more than the length).
        try await GatewayHarness.with(fixture: FixtureModel.Configuration(failureStatus: 429)) { harness in
            let key = try await harness.key()
            let body = GatewayHarness.chat(stream: true, extra: #","stream_options":{"include_usage":true}"#)
            let exchange = try await RawClient.exchange(
                port: harness.dataPort,
                [
                    Self.request(key, body: body, connection: "keep-alive")
                        + Self.request(key, body: GatewayHarness.chat(), connection: "close")
                ]
            )
            #expect(exchange.closed)
            let answers = exchange.response.components(separatedBy: "HTTP/1.1 ")
            #expect(answers.count == 3)
            #expect(answers.count == 3 && answers[1].hasPrefix("429") && answers[2].hasPrefix("429"))
            #expect(answers.count == 3 && answers[1].lowercased().contains("transfer-encoding: chunked"))
            #expect(answers.count == 3 && !answers[1].lowercased().contains("content-length"))
        }
    }
}
