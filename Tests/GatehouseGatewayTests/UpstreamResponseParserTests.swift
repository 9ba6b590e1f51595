import NIOCore
import NIOHTTP1
import Testing

@testable import GatehouseGateway

@Suite struct UpstreamResponseParserTests {
    /// What a parser made of some bytes: heads as `status`, bodies joined per response, `end` marks.
    private static func parse(_ pieces: [String], closed: Bool = false) throws -> [String] {
        var parser = UpstreamResponseParser()
        var parts: [String] = []
        var body = ""
        let emit = { (part: HTTPClientResponsePart) in
            switch part {
            case .head(let head):
                let fields = head.headers.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
                parts.append("\(head.version) \(head.status.code) [\(fields)]")
            case .body(let buffer): body += String(buffer: buffer)
            case .end:
                parts.append("body \(body)")
                parts.append("end")
                body = ""
            }
        }
        for piece in pieces { try parser.feed(ByteBuffer(string: piece), emit) }
        if closed { parser.inputClosed(emit) }
        return parts
    }

    /// The same bytes whole, one byte at a time, and cut at every place into two.
    private static func everySplit(_ text: String, closed: Bool = false) throws -> [[String]] {
        let bytes = Array(text.utf8)
        var results = [
            try parse([text], closed: closed),
            try parse(bytes.map { String(decoding: [$0], as: UTF8.self) }, closed: closed),
        ]
        for cut in 1..<bytes.count {
            results.append(
                try parse(
                    [String(decoding: bytes[..<cut], as: UTF8.self), String(decoding: bytes[cut...], as: UTF8.self)],
                    closed: closed
                )
            )
        }
        return results
    }

    @Test func aBodyWithALengthThenAnotherResponseOnTheSameConnection() throws {
        let text =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"a\":\"bcd\"}"
            + "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        let expected = [
            "HTTP/1.1 200 [Content-Type=application/json,Content-Length=11]", "body {\"a\":\"bcd\"}", "end",
            "HTTP/1.1 404 [content-length=0]", "body ", "end",
        ]
        for result in try Self.everySplit(text) { #expect(result == expected) }
    }

    @Test func chunksWithExtensionsAndTrailers() throws {
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "6;name=value\r\ndata: \r\n18\r\n{\"choices\":[]}\n\n[DONE]\n\n\r\n0\r\nx-trailer: 1\r\n\r\n"
        let expected = [
            "HTTP/1.1 200 [Transfer-Encoding=chunked]", "body data: {\"choices\":[]}\n\n[DONE]\n\n", "end",
        ]
        for result in try Self.everySplit(text) { #expect(result == expected) }
    }

    @Test func chunkSizesMayHaveLeadingZerosAndSpaceBeforeExtensions() throws {
        let text =
            "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n"
            + "00000000000000000003 ;a=b\r\nabc\r\n2\t\r\nde\r\n0\r\n\r\n"
        for result in try Self.everySplit(text) {
            #expect(result == ["HTTP/1.1 200 [transfer-encoding=Chunked]", "body abcde", "end"])
        }
    }

    @Test func whatIsLeftBetweenResponsesIsKnown() throws {
        var parser = UpstreamResponseParser()
        #expect(parser.isBetweenResponses)
        try parser.feed(ByteBuffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nx")) { _ in }
        #expect(parser.isBetweenResponses)
        try parser.feed(ByteBuffer(string: "HTTP/1.1 2")) { _ in }
        #expect(!parser.isBetweenResponses)
    }

    @Test func informationalHeadsAreSkippedAndSomeStatusesHaveNoBody() throws {
        let text =
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n"
            + "HTTP/1.1 304 Not Modified\r\n\r\nHTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok"
        let expected = [
            "HTTP/1.1 204 [content-length=5]", "body ", "end", "HTTP/1.1 304 []", "body ", "end",
            "HTTP/1.1 200 [content-length=2]", "body ok", "end",
        ]
        for result in try Self.everySplit(text) { #expect(result == expected) }
    }

    @Test func withNeitherLengthNorChunksTheCloseEndsTheBody() throws {
        let text = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it"
        for result in try Self.everySplit(text, closed: true) {
            #expect(result == ["HTTP/1.0 200 [Content-Type=text/plain]", "body all of it", "end"])
        }
        // Without the close there is no end yet.
        #expect(try Self.parse([text]) == ["HTTP/1.0 200 [Content-Type=text/plain]"])
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "line not ended by CRLF"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n\r\n", "line not ended by CRLF"),
        ("HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n", "folded header field"),
        ("HTTP/1.1 200 OK\r\nBad Name: b\r\n\r\n", "bad header field"),
        ("HTTP/1.1 200 OK\r\n: b\r\n\r\n", "bad header field"),
        ("HTTP/1.1 200 OK\r\nA: b\u{1}c\r\n\r\n", "bad header value"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "two content-lengths"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad content-length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n", "bad content-length"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "bad content-length"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "content-length with chunks"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported transfer-encoding"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "unsupported transfer-encoding"),
        (
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            "unsupported transfer-encoding"
        ),
        ("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "unsupported transfer-encoding"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n", "bad chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\n", "bad chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n", "chunk too large"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n", "chunk data not followed by CRLF"),
        ("HTTP/1.1 101 Switching Protocols\r\n\r\n", "a protocol switch was not asked for"),
        ("HTTP/2.0 200 OK\r\n\r\n", "bad status line"),
        ("HTTP/1.1 2000 OK\r\n\r\n", "bad status line"),
        ("HTTP/1.1 20x OK\r\n\r\n", "bad status line"),
        ("HTTP/1.1 099 Odd\r\n\r\n", "bad status code"),
        ("ICY 200 OK\r\n\r\n", "bad status line"),
    ])
    func malformedResponsesAreRefused(text: String, reason: String) throws {
        #expect(throws: UpstreamResponseParser.Malformed(reason: reason)) { try Self.parse([text]) }
    }

    @Test func headsAndLinesAreBounded() throws {
        let huge = "HTTP/1.1 200 OK\r\n" + String(repeating: "x-filler: 0123456789\r\n", count: 4000)
        #expect(throws: UpstreamResponseParser.Malformed(reason: "head too large")) { try Self.parse([huge]) }
        // Also when the head's end comes in the read that takes it past the limit.
        let start = "HTTP/1.1 200 OK\r\n" + String(repeating: "x-filler: 0123456789\r\n", count: 2900)
        #expect(throws: UpstreamResponseParser.Malformed(reason: "head too large")) {
            try Self.parse([start, String(repeating: "x-filler: 0123456789\r\n", count: 100) + "\r\n"])
        }
        let longLine = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "e", count: 9000)
        #expect(throws: UpstreamResponseParser.Malformed(reason: "line too long")) { try Self.parse([longLine]) }
        let trailers =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
            + String(repeating: "x-trailer: 0123456789012345678901234567890123456789\r\n", count: 200)
        #expect(throws: UpstreamResponseParser.Malformed(reason: "trailers too large")) { try Self.parse([trailers]) }
    }
}
