import NIOCore
import NIOEmbedded
import NIOTLS
import Testing

@testable import GatehouseGateway

/// The handshake deadline on a manual clock: the connection closes when the limit passes without a
/// completed handshake, and stays once the handshake is done.
@Suite struct TLSHandshakeDeadlineTests {
    @Test func anUnfinishedHandshakeIsClosedAtItsDeadline() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(TLSHandshakeDeadline(limit: .seconds(10)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(10) - .milliseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test func aCompletedHandshakeTakesTheDeadlineAway() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(TLSHandshakeDeadline(limit: .seconds(10)))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        channel.pipeline.fireUserInboundEventTriggered(TLSUserEvent.handshakeCompleted(negotiatedProtocol: nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(channel.isActive)
        #expect(throws: (any Error).self) {
            try channel.pipeline.syncOperations.handler(type: TLSHandshakeDeadline.self)
        }
        _ = try channel.finish()
    }
}
