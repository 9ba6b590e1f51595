import NIOCore
import NIOHTTP1

/// Writes one response onto a connection from async code. Each write waits for the bytes to reach the
/// socket, so a slow reader slows the upstream read instead of growing memory.
struct ResponseWriter: Sendable {
    let channel: any Channel
    let requestID: String
    let keepAlive: Bool
    let version: HTTPVersion
    /// Tells the connection the response is complete (hops to its event loop).
    let finished: @Sendable (_ keepAlive: Bool) -> Void

    func writeHead(status: HTTPResponseStatus, headers: [(String, String)], closes: Bool = false) async throws {
        var fields = HTTPHeaders(headers)
        fields.replaceOrAdd(name: RequestID.headerName, value: requestID)
        if closes || !keepAlive { fields.replaceOrAdd(name: "connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: status, headers: fields)
        try await channel.writeAndFlush(HTTPServerResponsePart.head(head)).get()
    }

    func writeBody(_ buffer: ByteBuffer) async throws {
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).get()
    }

    func writeEnd(closes: Bool = false) async {
        let keep = keepAlive && !closes
        do {
            try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            finished(keep)
        } catch {
            finished(false)
        }
    }

    /// A whole JSON response.
    func writeJSON(
        status: HTTPResponseStatus,
        _ json: String,
        headers: [(String, String)] = [],
        closes: Bool = false
    ) async {
        do {
            var buffer = channel.allocator.buffer(capacity: json.utf8.count)
            buffer.writeString(json)
            try await writeHead(
                status: status,
                headers: [("content-type", "application/json"), ("content-length", String(buffer.readableBytes))]
                    + headers,
                closes: closes
            )
            try await writeBody(buffer)
            await writeEnd(closes: closes)
        } catch {
            finished(false)
        }
    }

    func writeError(_ error: GatewayError) async {
        await writeJSON(
            status: error.status,
            error.body(requestID: requestID),
            headers: error.headers,
            closes: error.closesConnection
        )
    }
}
