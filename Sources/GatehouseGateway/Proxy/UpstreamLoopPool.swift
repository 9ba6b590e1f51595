import NIOCore
import NIOHTTP1

/// The idle connections to one upstream on one event loop. Used only on that loop (hence unchecked).
final class UpstreamLoopPool: @unchecked Sendable {
    struct UpstreamTimeout: Error {}

    let eventLoop: any EventLoop
    let connections: UpstreamConnections
    private var idle: [(channel: any Channel, handler: UpstreamConnectionHandler)] = []

    init(eventLoop: any EventLoop, connections: UpstreamConnections) {
        self.eventLoop = eventLoop
        self.connections = connections
    }

    func start(head: HTTPRequestHead, body: ByteBuffer) -> EventLoopFuture<UpstreamExchange> {
        while let (channel, handler) = idle.popLast() {
            guard channel.isActive, handler.isIdle else { continue }
            return send(head: head, body: body, channel: channel, handler: handler).flatMapError { error in
                guard !(error is UpstreamTimeout) else { return self.eventLoop.makeFailedFuture(error) }
                return self.sendOnNewConnection(head: head, body: body)
            }
        }
        return sendOnNewConnection(head: head, body: body)
    }

    private func sendOnNewConnection(head: HTTPRequestHead, body: ByteBuffer) -> EventLoopFuture<UpstreamExchange> {
        connections.connect(on: eventLoop).flatMap { channel, handler in
            self.send(head: head, body: body, channel: channel, handler: handler)
        }
    }

    private func send(
        head: HTTPRequestHead,
        body: ByteBuffer,
        channel: any Channel,
        handler: UpstreamConnectionHandler
    ) -> EventLoopFuture<UpstreamExchange> {
        let promise = eventLoop.makePromise(of: HTTPResponseHead.self)
        let timedOut = NIOLoopBoundBox(false, eventLoop: eventLoop)
        let timer = eventLoop.scheduleTask(in: TimeAmount(connections.settings.responseTimeout)) {
            timedOut.value = true
            channel.close(promise: nil)
        }
        handler.send(head: head, body: body, headPromise: promise)
        let boundHandler = NIOLoopBound(handler, eventLoop: eventLoop)
        return promise.futureResult.flatMapErrorThrowing { error in
            timer.cancel()
            throw timedOut.value ? UpstreamTimeout() : error
        }.map { responseHead in
            timer.cancel()
            return UpstreamExchange(head: responseHead, channel: channel, handler: boundHandler.value, pool: self)
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
