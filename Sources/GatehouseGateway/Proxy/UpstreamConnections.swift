import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// HTTP/1.1 connections to one upstream, pooled per event loop: a request uses a connection on the
/// event loop of the client connection it serves, so the relay between the two never changes thread.
final class UpstreamConnections: Sendable {
    /// Idle connections kept per event loop.
    static let maximumIdlePerLoop = 1024

    let settings: UpstreamSettings
    let hostHeader: String
    private let tls: NIOSSLContext?
    private let pools = Mutex<[ObjectIdentifier: UpstreamLoopPool]>([:])

    /// Throws when an https upstream's TLS context cannot be made: it is never reached in clear text.
    init(settings: UpstreamSettings) throws {
        self.settings = settings
        let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
        let defaultPort = settings.scheme == .https ? 443 : 80
        self.hostHeader = settings.port == defaultPort ? host : "\(host):\(settings.port)"
        self.tls = settings.scheme == .https ? try settings.tls.context() : nil
    }

    /// What became of a request.
    enum Answer: Sendable {
        /// The answer was relayed to the client (completely or not).
        case relayed(HTTPResponseStatus, UpstreamExchange.Relayed)
        /// `decide` turned the answer down; nothing was sent to the client. A 5xx answer's body is read
        /// (its start, briefly) for the log.
        case declined(HTTPResponseStatus, excerpt: String?)
    }

    /// Sends the request on the client connection's event loop (call it there); when the response head
    /// arrives, `decide` returns the headers to relay it with, or nil to turn it down. A pooled connection
    /// that fails before any answer is replaced by a fresh one once: the upstream may have closed it while
    /// it sat idle. Cancellation (the client went away) closes the connection. `completion` is called
    /// once, on that event loop.
    func forward(
        head: HTTPRequestHead,
        body: ByteBuffer,
        writer: ResponseWriter,
        cancellation: RequestCancellation,
        metering: UpstreamExchange.Metering,
        decide: @escaping @Sendable (HTTPResponseHead) -> HTTPHeaders?,
        completion: @escaping @Sendable (Result<Answer, any Error>) -> Void
    ) {
        pool(for: writer.channel.eventLoop).start(head: head, body: body) { started in
            switch started {
            case .failure(let error):
                completion(.failure(error))
            case .success(let exchange):
                guard cancellation.hold(exchange.connection), let headers = decide(exchange.head) else {
                    let status = exchange.head.status
                    guard status.code >= 500, !cancellation.isCancelled else {
                        exchange.discard()
                        completion(.success(.declined(status, excerpt: nil)))
                        return
                    }
                    exchange.excerpt { completion(.success(.declined(status, excerpt: $0))) }
                    return
                }
                exchange.startRelay(headers: headers, to: writer, metering: metering) {
                    completion(.success(.relayed(exchange.head.status, $0)))
                }
            }
        }
    }

    private func pool(for eventLoop: any EventLoop) -> UpstreamLoopPool {
        let key = ObjectIdentifier(eventLoop)
        return pools.withLock { table in
            if let pool = table[key] { return pool }
            let pool = UpstreamLoopPool(eventLoop: eventLoop, connections: self)
            table[key] = pool
            return pool
        }
    }

    /// Whether the upstream answers `path` with a 2xx within `timeout`, asked over its own connections
    /// (so with its TLS checks and its credential); call on `eventLoop`.
    func probe(path: String, timeout: TimeAmount, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        var headers = HTTPHeaders()
        headers.add(name: "host", value: hostHeader)
        headers.add(name: "user-agent", value: "gatehouse-health-check")
        headers.add(name: "content-length", value: "0")
        if let credential = settings.credential {
            headers.add(name: "authorization", value: "Bearer \(credential.revealed)")
        }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: settings.basePath + path, headers: headers)
        let promise = eventLoop.makePromise(of: Bool.self)
        // Whichever comes first, the deadline or the answer, completes the probe; an answer after the
        // deadline only has its connection closed.
        let answered = NIOLoopBoundBox(false, eventLoop: eventLoop)
        let deadline = eventLoop.scheduleTask(in: timeout) {
            answered.value = true
            promise.succeed(false)
        }
        pool(for: eventLoop).start(head: head, body: ByteBuffer()) { started in
            let late = answered.value
            answered.value = true
            deadline.cancel()
            switch started {
            case .success(let exchange):
                // The body is not wanted: the connection goes with it.
                exchange.discard()
                if !late { promise.succeed((200..<300).contains(exchange.head.status.code)) }
            case .failure:
                if !late { promise.succeed(false) }
            }
        }
        return promise.futureResult
    }

    /// Opens a connection on `eventLoop`: TLS when the upstream is https, then one handler that speaks
    /// HTTP/1.1. With TLS, the connection is handed out only once its handshake is done and the server's
    /// certificate carries the identity configured, so no request is written to a server that has not
    /// shown it is the one meant.
    func connect(on eventLoop: any EventLoop) -> EventLoopFuture<(any Channel, UpstreamConnectionHandler)> {
        let tls = self.tls
        let tlsSettings = settings.tls
        let handshakeTimeout = TimeAmount(settings.connectTimeout)
        let responseTimeout = TimeAmount(settings.responseTimeout)
        let idleTimeout = TimeAmount(settings.idleTimeout)
        let serverName = settings.tls.serverName ?? (settings.host.first?.isLetter == true ? settings.host : nil)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(settings.connectTimeout))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            // A FIN is told apart from a reset: only an orderly close ends a body delimited by the close.
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls {
                        try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                        try pipeline.addHandler(
                            UpstreamHandshake(settings: tlsSettings, timeout: handshakeTimeout, channel: channel)
                        )
                    }
                    try pipeline.addHandler(
                        UpstreamConnectionHandler(responseTimeout: responseTimeout, idleTimeout: idleTimeout)
                    )
                }
            }
        return bootstrap.connect(host: settings.host, port: settings.port).flatMap { channel in
            guard tls != nil else { return channel.eventLoop.makeSucceededFuture(channel) }
            do {
                return try channel.pipeline.syncOperations.handler(type: UpstreamHandshake.self).verified.map {
                    channel
                }
            } catch {
                channel.close(promise: nil)
                return channel.eventLoop.makeFailedFuture(error)
            }
        }.flatMapThrowing { channel in
            (channel, try channel.pipeline.syncOperations.handler(type: UpstreamConnectionHandler.self))
        }
    }
}
