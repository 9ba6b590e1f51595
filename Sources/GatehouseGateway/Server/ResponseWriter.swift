import NIOCore
import NIOHTTP1

/// Writes one response onto a connection, from its event loop or from a task. Writes are queued without
/// waiting; a relayed body pauses the upstream read while the connection is full (see `writability`).
struct ResponseWriter: Sendable {
    let channel: any Channel
    let requestID: String
    let keepAlive: Bool
    let version: HTTPVersion
    /// Fires when the client connection, once full, can take more bytes.
    let writability: WritabilitySignal
    /// Tells the connection the response is complete (hops to its event loop).
    let finished: @Sendable (_ keepAlive: Bool) -> Void

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
        writeHead(
            status: status,
            headers: HTTPHeaders(
                [("content-type", "application/json"), ("content-length", String(buffer.readableBytes))] + headers
            ),
            closes: closes
        )
        channel.write(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
        writeEnd(closes: closes)
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
