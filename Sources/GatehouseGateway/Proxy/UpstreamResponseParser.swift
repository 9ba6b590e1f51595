import GatehouseCore
import NIOCore
import NIOHTTP1

/// Reads an upstream's HTTP/1.1 responses from the bytes of its connection (RFC 9112), as parts: a
/// head, body pieces, an end. A body is framed by `content-length`, by chunks, or with neither by the
/// connection's close; 1xx heads are skipped, and 204 and 304 have no body. Strict where a model server
/// has no reason to be loose (CRLF line ends, no folded fields, one length, never a length beside
/// chunks), since a response read wrong would be relayed wrong. It replaces SwiftNIO's generic decoder
/// on upstream connections, whose pipeline steps cost more per response than the reading itself.
struct UpstreamResponseParser {
    struct Malformed: Error, Equatable {
        let reason: String
    }

    /// The most a head (status line and fields) may take.
    static let maximumHeadBytes = 64 * 1024
    /// The most a chunk-size line or a trailer field may take, and all trailer fields together.
    static let maximumLineBytes = 8 * 1024

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        /// The CRLF after a chunk's data.
        case chunkEnd
        case trailers(bytes: Int)
        case untilClose
    }

    private var state = State.head
    /// The start of a head or line whose end has not arrived (owned: a read buffer is copied, not kept).
    private var partial: ByteBuffer?
    /// How far `partial` was searched for the end of its head or line, so no byte is searched twice.
    private var searched = 0

    /// Whether no response is under way and no byte of the next one has come.
    var isBetweenResponses: Bool {
        guard case .head = state else { return false }
        return partial == nil
    }

    /// Reads `bytes`; `emit` gets each complete part in order. Throws on a malformed response, after
    /// which the connection cannot be read further.
    mutating func feed(_ bytes: ByteBuffer, _ emit: (HTTPClientResponsePart) -> Void) throws {
        var input = bytes
        var owned = false
        if var partial {
            self.partial = nil
            partial.writeImmutableBuffer(bytes)
            input = partial
            owned = true
        }
        while input.readableBytes > 0 {
            switch state {
            case .head:
                guard let length = Self.headLength(in: input, from: searched) else {
                    guard input.readableBytes <= Self.maximumHeadBytes else {
                        throw Malformed(reason: "head too large")
                    }
                    searched = max(0, input.readableBytes - 3)
                    keep(input, owned: owned)
                    return
                }
                guard length <= Self.maximumHeadBytes else { throw Malformed(reason: "head too large") }
                searched = 0
                guard let head = try parseHead(input.readSlice(length: length)!) else {
                    continue  // informational: the final head follows
                }
                emit(.head(head))
                if case .head = state { emit(.end(nil)) }
            case .fixed(let remaining):
                let piece = input.readSlice(length: min(remaining, input.readableBytes))!
                let left = remaining - piece.readableBytes
                state = left == 0 ? .head : .fixed(remaining: left)
                emit(.body(piece))
                if left == 0 { emit(.end(nil)) }
            case .chunkSize:
                guard let line = try readLine(&input, owned: owned) else { return }
                let size = try Self.chunkSize(line)
                state = size == 0 ? .trailers(bytes: 0) : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let piece = input.readSlice(length: min(remaining, input.readableBytes))!
                let left = remaining - piece.readableBytes
                state = left == 0 ? .chunkEnd : .chunkData(remaining: left)
                emit(.body(piece))
            case .chunkEnd:
                guard input.readableBytes >= 2 else {
                    keep(input, owned: owned)
                    return
                }
                guard input.readInteger(as: UInt16.self) == 0x0D0A else {
                    throw Malformed(reason: "chunk data not followed by CRLF")
                }
                state = .chunkSize
            case .trailers(let bytes):
                guard let line = try readLine(&input, owned: owned) else { return }
                guard line.readableBytes > 0 else {
                    state = .head
                    emit(.end(nil))
                    continue
                }
                // Trailer fields are read and dropped: nothing the gateway relays depends on them.
                let total = bytes + line.readableBytes
                guard total <= Self.maximumLineBytes else { throw Malformed(reason: "trailers too large") }
                state = .trailers(bytes: total)
            case .untilClose:
                emit(.body(input.readSlice(length: input.readableBytes)!))
            }
        }
    }

    /// The upstream closed its side in order (a FIN, or TLS close_notify): a body that only the close
    /// could end ends here. A connection lost otherwise (reset, timeout) leaves such a body unfinished.
    mutating func inputClosed(_ emit: (HTTPClientResponsePart) -> Void) {
        guard case .untilClose = state else { return }
        state = .head
        emit(.end(nil))
    }

    /// Keeps what is left for the next read: as it is when the parser owns it, else a copy (holding on
    /// to a read buffer would keep the channel from reusing it).
    private mutating func keep(_ input: ByteBuffer, owned: Bool) {
        if owned {
            partial = input
        } else {
            var copy = ByteBuffer()
            copy.writeImmutableBuffer(input)
            partial = copy
        }
    }

    /// The next line without its CRLF, or nil (and the bytes kept) when its end has not arrived.
    private mutating func readLine(_ input: inout ByteBuffer, owned: Bool) throws -> ByteBuffer? {
        let from = searched
        let found = input.withUnsafeReadableBytes { bytes in
            bytes[min(from, bytes.count)...].firstIndex(of: UInt8(ascii: "\n"))
        }
        guard let end = found else {
            guard input.readableBytes <= Self.maximumLineBytes else { throw Malformed(reason: "line too long") }
            searched = input.readableBytes
            keep(input, owned: owned)
            return nil
        }
        searched = 0
        guard end > 0, input.getInteger(at: input.readerIndex + end - 1, as: UInt8.self) == UInt8(ascii: "\r") else {
            throw Malformed(reason: "line not ended by CRLF")
        }
        guard end - 1 <= Self.maximumLineBytes else { throw Malformed(reason: "line too long") }
        let line = input.readSlice(length: end - 1)!
        input.moveReaderIndex(forwardBy: 2)
        return line
    }

    /// The length of the head at the start of `buffer` up to and with its blank line, or nil if the blank
    /// line has not arrived; the first `from` bytes were searched before.
    private static func headLength(in buffer: ByteBuffer, from: Int) -> Int? {
        buffer.withUnsafeReadableBytes { bytes in
            var index = max(from, 3)
            while index < bytes.count {
                if bytes[index] == 0x0A, bytes[index - 1] == 0x0D, bytes[index - 2] == 0x0A, bytes[index - 3] == 0x0D {
                    return index + 1
                }
                index += 1
            }
            return nil
        }
    }

    /// Reads a head and sets the state its framing calls for; nil for an informational (1xx) head.
    private mutating func parseHead(_ bytes: ByteBuffer) throws -> HTTPResponseHead? {
        let parsed = try bytes.withUnsafeReadableBytes { try ParsedHead($0) }
        switch parsed.status {
        case 101:
            throw Malformed(reason: "a protocol switch was not asked for")
        case 100..<200:
            return nil
        case 204, 304:
            state = .head
        default:
            if parsed.chunked {
                state = .chunkSize
            } else if let length = parsed.contentLength {
                state = length == 0 ? .head : .fixed(remaining: length)
            } else {
                state = .untilClose
            }
        }
        return HTTPResponseHead(
            version: HTTPVersion(major: 1, minor: parsed.minorVersion),
            status: HTTPResponseStatus(statusCode: parsed.status),
            headers: parsed.headers
        )
    }

    private static func chunkSize(_ line: ByteBuffer) throws -> Int {
        try line.withUnsafeReadableBytes { bytes in
            var size = 0
            var digits = 0
            var index = bytes.startIndex
            while index < bytes.endIndex, let value = bytes[index].hexDigitValue {
                // Leading zeros aside, at most 15 digits: no size can overflow.
                if size > 0 || value > 0 { digits += 1 }
                guard digits <= 15 else { throw Malformed(reason: "chunk too large") }
                size = size << 4 | Int(value)
                index += 1
            }
            guard index > bytes.startIndex else { throw Malformed(reason: "bad chunk size") }
            // Then optional whitespace and extensions (`;name=value`), which are ignored.
            while index < bytes.endIndex, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
            guard index == bytes.endIndex || bytes[index] == UInt8(ascii: ";") else {
                throw Malformed(reason: "bad chunk size")
            }
            return size
        }
    }
}

extension UpstreamResponseParser {
    /// A head's status line and fields, and the framing they give its body.
    private struct ParsedHead {
        var minorVersion = 1
        var status = 0
        var headers = HTTPHeaders()
        var contentLength: Int?
        var chunked = false

        /// `bytes` runs from the status line to the blank line after the fields, inclusive.
        init(_ bytes: UnsafeRawBufferPointer) throws {
            var lines = Lines(bytes: bytes)
            guard let statusLine = try lines.next() else { throw Malformed(reason: "no status line") }
            try readStatusLine(statusLine)
            headers.reserveCapacity(16)
            while let line = try lines.next(), !line.isEmpty {
                guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                    line[line.startIndex..<colon].allSatisfy(Self.isTokenByte)
                else { throw Malformed(reason: "bad header field") }
                let name = line[line.startIndex..<colon]
                var value = line[(colon + 1)...]
                while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
                while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
                guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
                    throw Malformed(reason: "bad header value")
                }
                if Self.equalsIgnoringCase(name, "content-length") {
                    guard !value.isEmpty, value.count <= 15, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                        throw Malformed(reason: "bad content-length")
                    }
                    let length = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                    guard contentLength == nil || contentLength == length else {
                        throw Malformed(reason: "two content-lengths")
                    }
                    contentLength = length
                } else if Self.equalsIgnoringCase(name, "transfer-encoding") {
                    // Only chunked was asked for (by HTTP/1.1 itself): any other coding, even under chunks,
                    // would reach the client undeclared and past the guardrails.
                    guard !chunked, minorVersion == 1, Self.equalsIgnoringCase(value, "chunked") else {
                        throw Malformed(reason: "unsupported transfer-encoding")
                    }
                    chunked = true
                }
                headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
            }
            // A length beside chunks is how responses are smuggled: refused, not resolved.
            guard !(chunked && contentLength != nil) else { throw Malformed(reason: "content-length with chunks") }
        }

        /// `HTTP/1.1 200 OK` (the reason phrase is optional and ignored).
        private mutating func readStatusLine(_ line: UnsafeRawBufferPointer.SubSequence) throws {
            func at(_ offset: Int) -> UInt8 { line[line.startIndex + offset] }
            func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
            guard line.count >= 12, line.prefix(7).elementsEqual("HTTP/1.".utf8), at(7) == 0x30 || at(7) == 0x31,
                at(8) == 0x20, isDigit(at(9)), isDigit(at(10)), isDigit(at(11)), line.count == 12 || at(12) == 0x20
            else { throw Malformed(reason: "bad status line") }
            minorVersion = Int(at(7) - 0x30)
            status = Int(at(9) - 0x30) * 100 + Int(at(10) - 0x30) * 10 + Int(at(11) - 0x30)
            guard status >= 100 else { throw Malformed(reason: "bad status code") }
        }

        /// Whether `bytes` spell `word` (lowercase ASCII) in any case.
        private static func equalsIgnoringCase(
            _ bytes: UnsafeRawBufferPointer.SubSequence,
            _ word: StaticString
        ) -> Bool {
            guard bytes.count == word.utf8CodeUnitCount else { return false }
            return word.withUTF8Buffer { expected in
                zip(bytes, expected).allSatisfy { byte, lower in
                    (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte) == lower
                }
            }
        }

        private static func isTokenByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                true
            default:
                "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
        }
    }

    /// The CRLF-ended lines of a head; a lone CR or LF, or a folded field line, is malformed.
    private struct Lines {
        let bytes: UnsafeRawBufferPointer
        var start = 0

        mutating func next() throws -> UnsafeRawBufferPointer.SubSequence? {
            guard start < bytes.count else { return nil }
            var index = start
            while index < bytes.count {
                let byte = bytes[index]
                if byte == 0x0D {
                    guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else {
                        throw Malformed(reason: "line not ended by CRLF")
                    }
                    let line = bytes[start..<index]
                    if let first = line.first, first == 0x20 || first == 0x09 {
                        throw Malformed(reason: "folded header field")
                    }
                    start = index + 2
                    return line
                }
                guard byte != 0x0A else { throw Malformed(reason: "line not ended by CRLF") }
                index += 1
            }
            throw Malformed(reason: "line not ended by CRLF")
        }
    }
}
