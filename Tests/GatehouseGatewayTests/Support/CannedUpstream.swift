import NIOCore
import NIOPosix

/// A loopback server that answers each connection's first bytes with fixed bytes, then ends the
/// connection in order (FIN) or with a reset: an upstream whose exact wire behaviour a test chooses.
final class CannedUpstream: Sendable {
    enum Ending: Sendable {
        case close
        case reset
        /// The connection stays open.
        case none
    }

    private let channel: any Channel

    var url: String { "http://127.0.0.1:\(channel.localAddress?.port ?? 0)" }

    private init(channel: any Channel) { self.channel = channel }

    static func start(answer: String, ending: Ending) async throws -> CannedUpstream {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(answer: answer, ending: ending))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return CannedUpstream(channel: channel)
    }

    func stop() async throws { try await channel.close() }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let answer: String
        let ending: Ending
        var answered = false

        init(answer: String, ending: Ending) {
            self.answer = answer
            self.ending = ending
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !answered else { return }
            answered = true
            let channel = context.channel
            let ending = self.ending
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer))).whenComplete { _ in
                switch ending {
                case .close:
                    channel.close(promise: nil)
                case .reset:
                    // Linger zero: the close sends a reset, not a FIN.
                    let lingering =
                        (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                        ?? channel.eventLoop.makeSucceededVoidFuture()
                    lingering.whenComplete { _ in channel.close(promise: nil) }
                case .none:
                    break
                }
            }
        }
    }
}
