import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A loopback HTTP server that answers every GET with the JSON it currently holds and counts the
/// requests: a JWKS endpoint whose keys a test can rotate.
final class JWKSServer: Sendable {
    private let state: State
    private let channel: any Channel

    final class State: Sendable {
        let document = Mutex("{\"keys\":[]}")
        let requests = Mutex(0)
    }

    var url: String { "http://127.0.0.1:\(channel.localAddress?.port ?? 0)/jwks.json" }
    var requests: Int { state.requests.withLock { $0 } }

    func serve(_ document: String) { state.document.withLock { $0 = document } }

    private init(state: State, channel: any Channel) {
        self.state = state
        self.channel = channel
    }

    static func start() async throws -> JWKSServer {
        let state = State()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return JWKSServer(state: state, channel: channel)
    }

    func stop() async throws { try await channel.close() }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let state: State

        init(state: State) { self.state = state }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            state.requests.withLock { $0 += 1 }
            let body = state.document.withLock { $0 }
            var headers = HTTPHeaders([("content-type", "application/json"), ("content-length", "\(body.utf8.count)")])
            headers.add(name: "connection", value: "close")
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))),
                promise: nil
            )
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
        }
    }
}
