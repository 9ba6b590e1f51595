import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import GatehouseGateway

/// The upstream connection's response and idle timeouts, on an `EmbeddedChannel` whose clock moves only
/// when told to (the loopback tests in `ProxyTests` show the same against a real model server).
@Suite struct UpstreamDeadlineTests {
    final class Sink: UpstreamConnectionHandler.Sink {
        var bodies = 0
        var ended: Bool?
        var failures = 0

        func body(_ buffer: ByteBuffer) { bodies += 1 }
        func end(reusable: Bool) { ended = reusable }
        func failed() { failures += 1 }
        func readComplete() {}
    }

    static let request = HTTPRequestHead(
        version: .http1_1,
        method: .POST,
        uri: "/v1/chat/completions",
        headers: ["host": "model"]
    )

    /// A connection with a 30 s response timeout and a 10 s idle timeout, a request sent on it; the head
    /// callback's result goes to `received`.
    static func connection(
        received: @escaping (Result<HTTPResponseHead, any Error>) -> Void
    ) async throws -> (EmbeddedChannel, UpstreamConnectionHandler) {
        let handler = UpstreamConnectionHandler(responseTimeout: .seconds(30), idleTimeout: .seconds(10))
        let channel = EmbeddedChannel(handler: handler)
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        handler.send(head: request, body: channel.allocator.buffer(string: "{}"), received: received)
        return (channel, handler)
    }

    @Test func noResponseHeadWithinTheResponseTimeoutFailsTheRequestAndClosesTheConnection() async throws {
        var outcome: Result<HTTPResponseHead, any Error>?
        let (channel, _) = try await Self.connection { outcome = $0 }
        channel.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(outcome == nil && channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        guard case .failure(let error) = outcome else {
            Issue.record("no failure after the response timeout: \(String(describing: outcome))")
            return
        }
        #expect(error is UpstreamConnectionHandler.Timeout)
        #expect(!channel.isActive)
    }

    @Test func aStreamedAnswerMayPauseUpToTheIdleTimeoutBetweenPieces() async throws {
        var head: HTTPResponseHead?
        let (channel, handler) = try await Self.connection { head = try? $0.get() }
        // The head after 25 s: within the response timeout.
        channel.embeddedEventLoop.advanceTime(by: .seconds(25))
        try channel.writeInbound(
            channel.allocator.buffer(string: "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        )
        #expect(head?.status == .ok)
        let sink = Sink()
        handler.attach(sink)
        // Three pieces, each 9 s after the last: never idle for 10 s, though far past the response timeout.
        for _ in 0..<3 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(9))
            try channel.writeInbound(channel.allocator.buffer(string: "5\r\nhello\r\n"))
        }
        #expect(sink.bodies == 3 && sink.failures == 0 && channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(sink.failures == 1)
        #expect(!channel.isActive)
    }

    @Test func aCompleteAnswerLeavesTheConnectionPooledWithNoDeadline() async throws {
        var head: HTTPResponseHead?
        let (channel, handler) = try await Self.connection { head = try? $0.get() }
        try channel.writeInbound(channel.allocator.buffer(string: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"))
        #expect(head?.status == .ok)
        let sink = Sink()
        handler.attach(sink)
        #expect(sink.ended == true && handler.isIdle)
        // A pooled connection waits for its next request as long as it is kept.
        channel.embeddedEventLoop.advanceTime(by: .seconds(120))
        #expect(channel.isActive)
    }
}
