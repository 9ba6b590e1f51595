import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import NIOCore
import NIOHTTP1
import Testing

/// What a client or attacker can send that a well-behaved client never would.
@Suite struct BadInputTests {
    static func request(_ head: String, body: String = "") -> String { head + "\r\n\r\n" + body }

    @Test(arguments: [
        ("duplicate Host", request("GET /v1/models HTTP/1.1\r\nHost: a\r\nHost: b"), "400"),
        ("missing Host", request("GET /v1/models HTTP/1.1\r\nX-A: 1"), "400"),
        ("Host with path", request("GET /v1/models HTTP/1.1\r\nHost: localhost/#@evil.example"), "400"),
        ("absolute-form", request("GET http://evil.example/v1/models HTTP/1.1\r\nHost: evil.example"), "400"),
        ("asterisk", request("OPTIONS * HTTP/1.1\r\nHost: a"), "400"),
        (
            "CONNECT",
            request("CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\nContent-Length: 5", body: "hello"),
            "400"
        ),
        (
            "TE on HTTP/1.0",
            request("POST /v1/chat/completions HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked", body: "0\r\n\r\n"),
            "400"
        ),
        (
            "CL and TE",
            request(
                "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked",
                body: "0\r\n\r\n"
            ), "400"
        ),
        ("underscore header", request("GET /v1/models HTTP/1.1\r\nHost: a\r\nX_Forwarded_For: 1"), "400"),
        (
            "too many headers",
            request(
                "GET /v1/models HTTP/1.1\r\nHost: a\r\n" + (0..<150).map { "X-H\($0): v" }.joined(separator: "\r\n")
            ), "431"
        ),
        (
            "huge header",
            request("GET /v1/models HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "a", count: 40_000)), "400"
        ),
        (
            "bad Expect",
            request("POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\nContent-Length: 2", body: "{}"),
            "417"
        ),
        ("obs-fold", request("GET /v1/models HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n  folded"), "400"),
    ])
    func framingAndHeadTricksAreRefusedAndTheConnectionCloses(name: String, bytes: String, status: String) async throws
    {
        try await GatewayHarness.with { harness in
            let exchange = try await RawClient.exchange(port: harness.dataPort, [bytes])
            #expect(
                exchange.response.hasPrefix("HTTP/1.1 \(status)") || exchange.response.hasPrefix("HTTP/1.0 \(status)"),
                "\(name)"
            )
            #expect(exchange.closed, "\(name): the connection stays open")
            #expect(harness.fixture.counters.requests == 0)
            // Every error answer is whole: the body its head announces arrives before the close.
            let parts = exchange.response.components(separatedBy: "\r\n\r\n")
            let head = parts[0].lowercased()
            if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) {
                let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
                #expect(parts.dropFirst().joined(separator: "\r\n\r\n").utf8.count == length, "\(name)")
            }
        }
    }

    @Test func routesUseTheRawPathAndManagementPathsAreNeverForwarded() async throws {
        try await GatewayHarness.with { harness in
            let key = try await harness.key()
            for path in [
                "/api/pull", "/api/push", "/api/create", "/api/delete", "/api/blobs/sha256:00", "/v1/keys", "/healthz",
                "/v1/chat/completions/../../api/pull", "/V1/models",
            ] {
                let answer = try await harness.call(.POST, path, key: key, json: "{}")
                #expect(answer.status == 404, "\(path)")
                #expect(answer.body.contains("\"request_id\""))
            }
            let wrongMethod = try await harness.call(.GET, "/v1/chat/completions", key: key)
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers.first(name: "allow") == "POST")
            #expect(harness.fixture.counters.requests == 0)
        }
    }

    @Test(arguments: [
        ("not json", "{\"model\":", "invalid_json"),
        ("array", "[1,2]", "invalid_json"),
        ("duplicate model", "{\"model\":\"fixture-small\",\"model\":\"fixture-large\"}", "duplicate_field"),
        (
            "too deep",
            "{\"model\":\"fixture-small\",\"x\":" + String(repeating: "[", count: 100)
                + String(repeating: "]", count: 100) + "}", "invalid_json"
        ),
        ("no model", "{\"messages\":[]}", "missing_model"),
        ("api_base", "{\"model\":\"fixture-small\",\"api_base\":\"http://169.254.169.254\"}", "routing_field_refused"),
        (
            "nested base_url", "{\"model\":\"fixture-small\",\"extra\":{\"user_config\":{\"base_url\":\"http://x\"}}}",
            "routing_field_refused"
        ),
        ("in a list", "{\"model\":\"fixture-small\",\"tools\":[{\"API-Base\":\"http://x\"}]}", "routing_field_refused"),
        ("credential", "{\"model\":\"fixture-small\",\"api_key\":\"sk-x\"}", "routing_field_refused"),
        (
            "split by separators", "{\"model\":\"fixture-small\",\"a_p_i-b_a_s_e\":\"http://x\"}",
            "routing_field_refused"
        ),
        (
            "spelled with escapes", "{\"model\":\"fixture-small\",\"\\u0061pi_base\":\"http://x\"}",
            "routing_field_refused"
        ),
        ("stream not bool", "{\"model\":\"fixture-small\",\"stream\":\"yes\"}", "invalid_stream"),
    ])
    func badBodiesGet400BeforeAnythingIsForwarded(name: String, body: String, code: String) async throws {
        try await GatewayHarness.with { harness in
            let key = try await harness.key()
            let answer = try await harness.call("/v1/chat/completions", key: key, json: body)
            #expect(answer.status == 400, "\(name)")
            #expect(answer.body.contains("\"code\":\"\(code)\""), "\(name): \(answer.body)")
            #expect(harness.fixture.counters.requests == 0)
        }
    }

    @Test func bodiesOverTheLimitGet413() async throws {
        try await GatewayHarness.with(
            configure: { configuration, _ in configuration.limits.maxBodyBytes = 1024 },
            { harness in
                let key = try await harness.key()
                let big = GatewayHarness.chat(extra: ",\"pad\":\"" + String(repeating: "x", count: 2000) + "\"")
                let answer = try await harness.call("/v1/chat/completions", key: key, json: big)
                #expect(answer.status == 413)
                let chunked =
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(key)\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "800\r\n" + String(repeating: "x", count: 2048) + "\r\n0\r\n\r\n"
                let exchange = try await RawClient.exchange(port: harness.dataPort, [chunked])
                #expect(exchange.response.hasPrefix("HTTP/1.1 413"))
                #expect(harness.fixture.counters.requests == 0)
            }
        )
    }

    /// A refused request whose body keeps coming still gets its answer: the connection closes its output
    /// and lingers, reading and dropping, instead of resetting the bytes in flight (and the answer with them).
    @Test func anAnswerThatClosesTheConnectionIsNotLostToTheBodyStillArriving() async throws {
        try await GatewayHarness.with(
            configure: { configuration, _ in configuration.limits.maxBodyBytes = 1024 },
            { harness in
                let head =
                    "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 400000\r\n\r\n"
                let body = Array(repeating: String(repeating: "x", count: 16 << 10), count: 24)
                for _ in 0..<3 {
                    let exchange = try await RawClient.exchange(port: harness.dataPort, [head] + body)
                    #expect(exchange.response.hasPrefix("HTTP/1.1 413"))
                    #expect(exchange.closed && exchange.elapsed < .seconds(3))
                }
            }
        )
    }

    /// The header deadline starts at the first HTTP byte: a ClientHello sent a byte at a time is cut by
    /// the handshake's own deadline, not left to the idle timeout.
    @Test func aSlowTLSHandshakeIsCutByItsDeadline() async throws {
        try await GatewayHarness.with(
            tls: true,
            configure: { configuration, _ in
                configuration.limits.handshakeTimeout = .milliseconds(500)
                configuration.limits.idleTimeout = .seconds(30)
            },
            { harness in
                // The start of a TLS 1.2 record holding a ClientHello, one byte every 100 ms.
                let hello = ["\u{16}", "\u{03}", "\u{01}", "\u{02}", "\u{00}", "\u{01}", "\u{00}", "\u{01}"]
                let slow = try await RawClient.exchange(
                    port: harness.dataPort,
                    hello + Array(repeating: "\u{03}", count: 40),
                    pause: .milliseconds(100),
                    timeout: .seconds(5)
                )
                #expect(slow.closed, "the handshake held the connection for \(slow.elapsed)")
                #expect(slow.elapsed >= .milliseconds(400) && slow.elapsed < .seconds(3), "\(slow.elapsed)")
            }
        )
    }

    /// Each deadline is tested with a manual clock in `ConnectionDeadlineTests`; this is what only a real
    /// socket shows: a client still sending its head gets the 408 and the connection's end.
    @Test func headersThatTrickleInOverARealSocketGet408AndTheConnectionCloses() async throws {
        try await GatewayHarness.with(
            configure: { configuration, _ in
                configuration.limits.headerTimeout = .milliseconds(400)
            },
            { harness in
                // Slowloris: one header line every 150 ms never finishes the head.
                let trickle = ["GET /v1/models HTTP/1.1\r\n"] + (0..<20).map { "X-T\($0): v\r\n" }
                let slow = try await RawClient.exchange(port: harness.dataPort, trickle, pause: .milliseconds(150))
                #expect(slow.response.hasPrefix("HTTP/1.1 408"))
                #expect(slow.closed && slow.elapsed < .seconds(3))
            }
        )
    }

    @Test func keepAliveAndPipelinedRequestsAreAnsweredInOrder() async throws {
        try await GatewayHarness.with { harness in
            let key = try await harness.key()
            let chat = GatewayHarness.chat()
            func post(_ id: String, close: Bool = false) -> String {
                "POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(key)\r\nX-Request-Id: \(id)\r\n"
                    + "Content-Length: \(chat.utf8.count)\r\n\(close ? "Connection: close\r\n" : "")\r\n\(chat)"
            }
            let get =
                "GET /v1/models HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(key)\r\nX-Request-Id: second\r\n\r\n"
            // Three requests in one write, then a fourth that must never be read (the third closes).
            let exchange = try await RawClient.exchange(
                port: harness.dataPort,
                [post("first") + get + post("third", close: true) + post("fourth")]
            )
            let ids = ["first", "second", "third"].map {
                exchange.response.range(of: "x-request-id: \($0)")?.lowerBound
            }
            #expect(ids.allSatisfy { $0 != nil }, "\(exchange.response.prefix(600))")
            #expect(ids.compactMap { $0 }.sorted() == ids.compactMap { $0 })
            #expect(exchange.response.components(separatedBy: "HTTP/1.1 200 OK").count == 4)
            #expect(!exchange.response.contains("fourth"))
            #expect(exchange.closed)
        }
    }
}
