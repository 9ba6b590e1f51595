import GatehouseFixtureModel
import Testing

/// How answers are framed on the wire: the gateway, not its HTTP encoder, sets the framing headers.
@Suite struct ResponseFramingTests {
    private static func request(_ key: String, body: String, version: String = "1.1", connection: String) -> String {
        "POST /v1/chat/completions HTTP/\(version)\r\nHost: a\r\nAuthorization: Bearer \(key)\r\n"
            + "Connection: \(connection)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// A response's head, lowercased, and its body when the head ended.
    private static func split(_ response: String) -> (head: String, body: Substring?) {
        let parts = response.split(separator: "\r\n\r\n", maxSplits: 1)
        return (parts.first.map { $0.lowercased() } ?? "", parts.count == 2 ? parts[1] : nil)
    }

    /// The body of a chunked message, or nil when its framing is wrong or it has no last chunk.
    private static func dechunked(_ body: Substring) -> String? {
        var rest = body.utf8[...]
        var text: [UInt8] = []
        while let lineEnd = rest.firstRange(of: "\r\n".utf8) {
            guard let size = Int(String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self), radix: 16) else {
                return nil
            }
            let start = lineEnd.upperBound
            guard let end = rest.index(start, offsetBy: size + 2, limitedBy: rest.endIndex),
                String(decoding: rest[rest.index(end, offsetBy: -2)..<end], as: UTF8.self) == "\r\n"
            else { return nil }
            if size == 0 { return end == rest.endIndex ? String(decoding: text, as: UTF8.self) : nil }
            text += rest[start..<rest.index(end, offsetBy: -2)]
            rest = rest[end...]
        }
        return nil
    }

    @Test func aStreamTheGatewayShortensIsSentInChunksNotWithTheUpstreamsLength() async throws {
        // The upstream sends its whole stream with a length; the gateway asked for usage on the caller's
        // behalf and drops the usage-only event, so that length would promise bytes that never come.
        var fixture = FixtureModel.Configuration()
        fixture.lengthOnStreams = true
        try await GatewayHarness.with(fixture: fixture) { harness in
            let key = try await harness.key()
            let body = GatewayHarness.chat(stream: true)
            let exchange = try await RawClient.exchange(
                port: harness.dataPort,
                [Self.request(key, body: body, connection: "close")]
            )
            #expect(exchange.closed)
            let (head, answer) = Self.split(exchange.response)
            #expect(head.hasPrefix("http/1.1 200"))
            #expect(head.contains("transfer-encoding: chunked"))
            #expect(!head.contains("content-length"))
            let events = answer.flatMap(Self.dechunked)
            #expect(events?.hasSuffix("data: [DONE]\n\n") == true)
            #expect(events?.contains("\"choices\":[]") == false)
        }
    }

    @Test func anHTTP10StreamEndsWithTheConnection() async throws {
        // HTTP/1.0 has no chunks: a body of unknown length can only end with the connection, even when
        // the client asked to keep it.
        try await GatewayHarness.with { harness in
            let key = try await harness.key()
            let exchange = try await RawClient.exchange(
                port: harness.dataPort,
                [Self.request(key, body: GatewayHarness.chat(stream: true), version: "1.0", connection: "keep-alive")]
            )
            #expect(exchange.closed)
            let (head, answer) = Self.split(exchange.response)
            #expect(head.hasPrefix("http/1.0 200"))
            #expect(head.contains("connection: close"))
            #expect(!head.contains("transfer-encoding"))
            #expect(answer?.hasSuffix("data: [DONE]\n\n") == true)
        }
    }

    @Test func wholeAnswersKeepTheirLengthAndTheConnection() async throws {
        try await GatewayHarness.with { harness in
            let key = try await harness.key()
            for version in ["1.1", "1.0"] {
                // Two requests on one connection, the second asking to close: both answered means the
                // first answer kept the connection, and its length tells where the second begins.
                let body = GatewayHarness.chat()
                let exchange = try await RawClient.exchange(
                    port: harness.dataPort,
                    [
                        Self.request(key, body: body, version: version, connection: "keep-alive")
                            + Self.request(key, body: body, version: version, connection: "close")
                    ]
                )
                #expect(exchange.closed, "HTTP/\(version)")
                let (head, answer) = Self.split(exchange.response)
                #expect(head.hasPrefix("http/\(version) 200"))
                #expect(!head.contains("transfer-encoding"))
                #expect(!head.contains("connection: close"))
                #expect(version == "1.1" || head.contains("connection: keep-alive"))
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length: ") }
                    .flatMap { Int($0.dropFirst("content-length: ".count)) }
                let rest = answer?.utf8.dropFirst(length ?? 0) ?? "".utf8[...]
                #expect(length != nil && String(decoding: rest, as: UTF8.self).hasPrefix("HTTP/\(version) 200"))
            }
        }
    }
}
