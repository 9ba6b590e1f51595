import NIOCore
import NIOHTTP1

/// The idle connections to one upstream on one event loop. Used only on that loop (hence unchecked).
final class UpstreamLoopPool: @unchecked Sendable {
    let eventLoop: any EventLoop
    let connections: UpstreamConnections
    private var idle: [(channel: any Channel, handler: UpstreamConnectionHandler)] = []

    init(eventLoop: any EventLoop, connections: UpstreamConnections) {
        self.eventLoop = eventLoop
        self.connections = connections
    }

    /// What `start` ends with, on the pool's event loop: the exchange whose head arrived, or the error.
    typealias Started = @Sendable (Result<UpstreamExchange, any Error>) -> Void

    /// Sends a request on an idle connection (a fresh one when the idle one fails before answering, since
    /// the upstream may have closed it while it sat idle) or on a new one. Call on the pool's event loop.
    func start(head: HTTPRequestHead, body: ByteBuffer, completion: @escaping Started) {
        while let (channel, handler) = idle.popLast() {
            guard channel.isActive, handler.isIdle else { continue }
            send(head: head, body: body, channel: channel, handler: handler) { result in
                // Retried only when the pooled connection was found closed: not after a timeout or an
                // unreadable answer, which the upstream may have given after acting on the request.
                if case .failure(let error) = result, !(error is UpstreamConnectionHandler.Timeout),
                    !(error is UpstreamResponseParser.Malformed)
                {
                    self.sendOnNewConnection(head: head, body: body, completion: completion)
                } else {
                    completion(result)
                }
            }
            return
        }
        sendOnNewConnection(head: head, body: body, completion: completion)
    }

    private func sendOnNewConnection(head: HTTPRequestHead, body: ByteBuffer, completion: @escaping Started) {
        connections.connect(on: eventLoop).whenComplete { result in
            switch result {
            case .success(let (channel, handler)):
                self.send(head: head, body: body, channel: channel, handler: handler, completion: completion)
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }

    private func send(
        head: HTTPRequestHead,
        body: ByteBuffer,
        channel: any Channel,
        handler: UpstreamConnectionHandler,
        completion: @escaping Started
    ) {
        handler.send(head: head, body: body) { result in
            completion(result.map { UpstreamExchange(head: $0, channel: channel, handler: handler, pool: self) })
        }
    }

    /// Takes back a connection whose exchange completed with keep-alive.
    func release(_ channel: any Channel, _ handler: UpstreamConnectionHandler) {
        guard channel.isActive, handler.isIdle, idle.count < UpstreamConnections.maximumIdlePerLoop else {
            channel.close(promise: nil)
            return
        }
        idle.append((channel, handler))
    }
}
