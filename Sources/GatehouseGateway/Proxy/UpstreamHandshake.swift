import NIOCore
import NIOSSL
import NIOTLS
import SwiftASN1
import X509

/// Sits after an upstream connection's TLS handler until the handshake is done: `verified` succeeds
/// once the server's chain was verified (by the TLS handler) and its certificate carries one of the
/// configured names, and fails, closing the connection, when it does not, when the handshake fails, or
/// when it takes longer than `timeout`.
final class UpstreamHandshake: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    /// The upstream's certificate carries none of the names it must.
    struct IdentityMismatch: Error, CustomStringConvertible {
        let expected: [SubjectAltName]
        var description: String {
            "the upstream's certificate names none of \(expected.map(\.description).joined(separator: ", "))"
        }
    }

    /// The handshake did not finish in time.
    struct Timeout: Error {}

    private let settings: UpstreamTLSSettings
    private let timeout: TimeAmount
    private let promise: EventLoopPromise<Void>
    private var timer: Scheduled<Void>?

    init(settings: UpstreamTLSSettings, timeout: TimeAmount, channel: any Channel) {
        self.settings = settings
        self.timeout = timeout
        self.promise = channel.eventLoop.makePromise()
    }

    var verified: EventLoopFuture<Void> { promise.futureResult }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.fail(Timeout(), context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case TLSUserEvent.handshakeCompleted = event, timer != nil else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard settings.subjectAltNames.isEmpty || peerAccepted(context: context) else {
            fail(IdentityMismatch(expected: settings.subjectAltNames), context: context)
            return
        }
        timer?.cancel()
        timer = nil
        promise.succeed()
        context.fireUserInboundEventTriggered(event)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.eof, context: context)
        context.fireChannelInactive()
    }

    private func peerAccepted(context: ChannelHandlerContext) -> Bool {
        guard let peer = try? context.pipeline.syncOperations.nioSSL_peerCertificate(),
            let certificate = try? Certificate(derEncoded: peer.toDERBytes())
        else { return false }
        return settings.accepts(peer: certificate)
    }

    /// Fails `verified` once and closes the connection.
    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        guard let timer else { return }
        timer.cancel()
        self.timer = nil
        promise.fail(error)
        context.close(promise: nil)
    }
}
