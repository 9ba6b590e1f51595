import NIOCore
import NIOHTTP1
import Synchronization

/// Writes one response onto a connection, from its event loop or from a task. Writes are queued without
/// waiting; a relayed body pauses the upstream read while the connection is full (see `writability`).
/// A class: the request's callbacks each hold the writer, and copying its fields into every one of them
/// showed in profiles.
final class ResponseWriter: Sendable {
    let channel: any Channel
    let requestID: String
    let keepAlive: Bool
    let version: HTTPVersion
    /// Fires when the client connection, once full, can take more bytes.
    let writability: WritabilitySignal
    /// Tells the connection the response is complete (hops to its event loop).
    let finished: @Sendable (_ keepAlive: Bool) -> Void
    /// Set by a head whose body only the connection's end can end.
    private let endsConnection = Atomic(false)

    init(
        channel: any Channel,
        requestID: String,
        keepAlive: Bool,
        version: HTTPVersion,
        writability: WritabilitySignal,
        finished: @escaping @Sendable (_ keepAlive: Bool) -> Void
    ) {
        self.channel = channel
        self.requestID = requestID
        self.keepAlive = keepAlive
        self.version = version
        self.writability = writability
        self.finished = finished
    }

    /// Writes the head with its framing headers, which the connection's encoder leaves as they are (see
    /// `GatewayServer`): a body without a length is sent in chunks, or on HTTP/1.0, which has none, ended
    /// by closing the connection.
    func writeHead(status: HTTPResponseStatus, headers: consuming HTTPHeaders, closes: Bool = false) {
        var fields = headers
        fields.add(name: RequestID.headerName, value: requestID)
        var closes = closes || !keepAlive
        if !status.mayHaveResponseBody {
            fields.remove(name: "content-length")
            fields.remove(name: "transfer-encoding")
        } else if fields.contains(name: "content-length") {
            fields.remove(name: "transfer-encoding")
        } else if version.major == 1 && version.minor >= 1 {
            fields.replaceOrAdd(name: "transfer-encoding", value: "chunked")
        } else {
            closes = true
            endsConnection.store(true, ordering: .sequentiallyConsistent)
        }
        fields.setPersistence(closes: closes, version: version)
        let head = HTTPResponseHead(version: version, status: status, headers: fields)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
    }

    func writeEnd(closes: Bool = false) {
        let keep = keepAlive && !closes && !endsConnection.load(ordering: .sequentiallyConsistent)
        let finished = self.finished
        channel.writeAndFlush(HTTPServerResponsePart.end(nil)).whenComplete { result in
            if case .success = result { finished(keep) } else { finished(false) }
        }
    }

    /// A whole JSON response.
    func writeJSON(status: HTTPResponseStatus, _ json: String, headers: [(String, String)] = [], closes: Bool = false) {
        var buffer = channel.allocator.buffer(capacity: json.utf8.count)
        buffer.writeString(json)
        write(status: status, contentType: "application/json", buffer, headers: headers, closes: closes)
    }

    /// A whole response of any type.
    func write(
        status: HTTPResponseStatus,
        contentType: String,
        _ body: ByteBuffer,
        headers: [(String, String)] = [],
        closes: Bool = false
    ) {
        writeHead(
            status: status,
            headers: HTTPHeaders(
                [("content-type", contentType), ("content-length", String(body.readableBytes))] + headers
            ),
            closes: closes
        )
        channel.write(HTTPServerResponsePart.body(.byteBuffer(body)), promise: nil)
        writeEnd(closes: closes)
    }

    /// One piece of a streamed body, flushed; completes when written (so a writer can wait for a slow client).
    func writeChunk(_ text: String) -> EventLoopFuture<Void> {
        channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(channel.allocator.buffer(string: text))))
    }

    func writeError(_ error: GatewayError) {
        writeJSON(
            status: error.status,
            error.body(requestID: requestID),
            headers: error.headers,
            closes: error.closesConnection
        )
    }
}
