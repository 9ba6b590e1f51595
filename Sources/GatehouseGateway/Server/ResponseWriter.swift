import NIOCore
import NIOHTTP1

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

    func writeHead(status: HTTPResponseStatus, headers: HTTPHeaders, closes: Bool = false) {
        var fields = headers
        fields.add(name: RequestID.headerName, value: requestID)
        if closes || !keepAlive { fields.replaceOrAdd(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: status, headers: fields)
        channel.write(HTTPServerResponsePart.head(head), promise: nil)
    }

    func writeEnd(closes: Bool = false) {
        let keep = keepAlive && !closes
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
