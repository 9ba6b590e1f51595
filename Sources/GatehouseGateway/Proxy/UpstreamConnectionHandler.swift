import NIOCore
import NIOHTTP1

/// One connection to an upstream: sends one request at a time and hands the response to the
/// exchange that asked for it: the head to a callback, then the body parts to a sink (buffered until
/// one attaches). Callbacks, not futures: everything happens on the connection's event loop, and a
/// future per step cost more than the step. It reads and writes the connection's bytes itself: the
/// request head is written as bytes, the response read by `UpstreamResponseParser`.
///
/// One watchdog timer per connection, re-armed lazily, enforces the upstream's response timeout (request
/// sent, no head yet) and idle timeout (no piece of the answer for that long): a request sets a time, it
/// schedules nothing. Times are read from the event loop's clock, which tests move by hand.
final class UpstreamConnectionHandler: ChannelInboundHandler {
    /// The upstream sent no response head within its response timeout.
    struct Timeout: Error {}

    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Where body parts go once the caller has decided to relay the response.
    protocol Sink: AnyObject {
        func body(_ buffer: ByteBuffer)
        /// All of it has arrived; `reusable` says whether the connection may serve another request.
        func end(reusable: Bool)
        func failed()
        /// The end of one read burst: the moment to flush.
        func readComplete()
    }

    /// Gets the response head, or why none came; called once, on the connection's event loop.
    typealias HeadCallback = (Result<HTTPResponseHead, any Error>) -> Void

    private enum State {
        case idle
        case awaitingHead(HeadCallback)
        case receiving(buffered: [ByteBuffer], ended: Bool)
        case relaying(any Sink)
        case closed
    }

    private var state = State.idle
    private var parser = UpstreamResponseParser()
    private var context: ChannelHandlerContext?
    private var responseKeepAlive = true
    private let responseTimeout: TimeAmount
    private let idleTimeout: TimeAmount
    /// While a request is out: since when the connection waits, and how long it may.
    private var waiting: (since: NIODeadline, limit: TimeAmount)?
    private var watchdog: (timer: Scheduled<Void>, deadline: NIODeadline)?
    private var timedOut = false
    /// Why the response could not be read, when that closed the connection.
    private var malformed: (any Error)?
    /// Called when the connection closes, so its pool forgets it.
    var onClose: (() -> Void)?

    init(responseTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.responseTimeout = responseTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Sends a request; `received` gets the response head.
    func send(head: HTTPRequestHead, body: ByteBuffer, received: @escaping HeadCallback) {
        guard let context, case .idle = state else {
            received(.failure(ChannelError.ioOnClosedChannel))
            return
        }
        state = .awaitingHead(received)
        wait(limit: responseTimeout)
        var bytes = context.channel.allocator.buffer(capacity: 512)
        bytes.writeRequestHead(head)
        context.write(wrapOutboundOut(bytes), promise: nil)
        context.writeAndFlush(wrapOutboundOut(body), promise: nil)
    }

    /// Starts relaying: buffered parts go to the sink at once.
    func attach(_ sink: any Sink) {
        guard case .receiving(let buffered, let ended) = state else {
            sink.failed()
            return
        }
        state = .relaying(sink)
        wait(limit: idleTimeout)
        for buffer in buffered { sink.body(buffer) }
        if !buffered.isEmpty { sink.readComplete() }
        if ended { finish(sink) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            try withParser { parser in
                try parser.feed(unwrapInboundIn(data)) { part in received(part, context: context) }
            }
        } catch {
            // A response that cannot be read: the connection cannot be trusted for another.
            malformed = error
            context.close(promise: nil)
            return
        }
        // Bytes with no request to answer, or left after a response: the connection is out of step.
        if case .idle = state, !parser.isBetweenResponses { context.close(promise: nil) }
    }

    /// Runs `body` on the parser taken out of `self`: handling a part can close the connection, and
    /// `channelInactive` then runs at once, inside `body`, and must find a parser of its own.
    private func withParser(_ body: (inout UpstreamResponseParser) throws -> Void) rethrows {
        var taken = parser
        parser = UpstreamResponseParser()
        defer { parser = taken }
        try body(&taken)
    }

    /// The upstream closed its side in order: the end of a body that only the close delimits.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard case ChannelEvent.inputClosed = event else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if context.channel.isActive {
            withParser { parser in parser.inputClosed { part in received(part, context: context) } }
        }
        context.close(promise: nil)
    }

    private func received(_ part: HTTPClientResponsePart, context: ChannelHandlerContext) {
        switch (part, state) {
        case (.head(let head), .awaitingHead(let received)):
            responseKeepAlive = head.isKeepAlive
            state = .receiving(buffered: [], ended: false)
            received(.success(head))
        case (.body(let buffer), .receiving(var buffered, let ended)):
            state = .closed
            buffered.append(buffer)
            state = .receiving(buffered: buffered, ended: ended)
        case (.body(let buffer), .relaying(let sink)):
            waiting?.since = context.eventLoop.now
            sink.body(buffer)
        case (.end, .receiving(let buffered, _)):
            state = .receiving(buffered: buffered, ended: true)
        case (.end, .relaying(let sink)):
            finish(sink)
        default:
            // An answer nobody asked for: the connection is out of step; drop it.
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        if case .relaying(let sink) = state { sink.readComplete() }
        context.fireChannelReadComplete()
    }

    func channelInactive(context: ChannelHandlerContext) {
        let previous = state
        state = .closed
        waiting = nil
        watchdog?.timer.cancel()
        watchdog = nil
        switch previous {
        case .awaitingHead(let received): received(.failure(malformed ?? (timedOut ? Timeout() : ChannelError.eof)))
        case .relaying(let sink): sink.failed()
        default: break
        }
        onClose?()
        onClose = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Whether the connection carries no request and may be pooled.
    var isIdle: Bool {
        if case .idle = state { return true }
        return false
    }

    private func finish(_ sink: any Sink) {
        let reusable = responseKeepAlive && context?.channel.isActive == true
        state = reusable ? .idle : .closed
        waiting = nil
        sink.end(reusable: reusable)
        if !reusable { context?.close(promise: nil) }
    }

    /// Starts a wait of at most `limit`; the watchdog is scheduled only when none is due by then.
    private func wait(limit: TimeAmount) {
        guard let context else { return }
        let since = context.eventLoop.now
        waiting = (since, limit)
        if let watchdog, watchdog.deadline <= since + limit { return }
        watchdog?.timer.cancel()
        armWatchdog(at: since + limit)
    }

    /// When the watchdog fires it closes the connection if the wait ran out, waits for the rest of it if
    /// not, and stops when nothing waits.
    private func armWatchdog(at deadline: NIODeadline) {
        guard let context else { return }
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timer = context.eventLoop.scheduleTask(deadline: deadline) {
            let handler = handler.value
            handler.watchdog = nil
            guard let waiting = handler.waiting else { return }
            let due = waiting.since + waiting.limit
            if let context = handler.context, due <= context.eventLoop.now {
                handler.timedOut = true
                handler.context?.close(promise: nil)
            } else {
                handler.armWatchdog(at: due)
            }
        }
        watchdog = (timer, deadline)
    }
}
