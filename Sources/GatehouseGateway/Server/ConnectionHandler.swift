import GatehouseCore
import NIOCore
import NIOHTTP1
import NIOSSL
import SwiftASN1
import X509

/// One client connection: enforces the deadlines and limits against slow and oversized requests,
/// refuses bad heads, collects the body, hands the request to its responder, and keeps the
/// connection alive or closes it.
final class ConnectionHandler: ChannelInboundHandler, ByteArrivalObserver {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// The head was admitted; the body is arriving.
        case reading(AdmittedRequest, HTTPRequestHead, String, ByteBuffer)
        /// The request is with the responder.
        case responding
        /// Refused; whatever else arrives is dropped until the connection closes.
        case discarding
    }

    private let responder: any Responder
    private let watcher: ByteArrivalWatcher
    private let tracker: ConnectionTracker
    private var state = State.idle
    /// When the idle, header and body-rate deadlines fall; the timers below carry them out.
    private var deadlines: ConnectionDeadlines
    private var limits: RequestLimits { deadlines.limits }
    /// The header deadline or the body-rate check, whichever phase the request is in.
    private var phaseTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    /// The connection's event loop, whose clock the deadlines read (a manual one in tests).
    private var eventLoop: (any EventLoop)?
    /// The request being answered, to abandon when the client goes away.
    private var cancellation: RequestCancellation?
    /// Read at the connection's first request, not per request.
    private var facts: ConnectionFacts?
    /// Counts requests, so a late "response finished" for an earlier request is recognised.
    private var sequence = 0
    private let writability = WritabilitySignal()
    /// What arrived while a response was being written: parts of pipelined requests, or the point
    /// where the bytes stopped parsing.
    private enum Pipelined {
        case part(HTTPServerRequestPart)
        case malformed
    }

    private var pipelined: [Pipelined] = []
    private var replaying = false

    init(responder: any Responder, watcher: ByteArrivalWatcher, tracker: ConnectionTracker) {
        self.responder = responder
        self.watcher = watcher
        self.tracker = tracker
        self.deadlines = ConnectionDeadlines(limits: responder.limits, now: .now())
        watcher.observer = self
    }

    func handlerAdded(context: ChannelHandlerContext) {
        eventLoop = context.eventLoop
    }

    func channelActive(context: ChannelHandlerContext) {
        tracker.opened(context.channel)
        awaitRequest(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        phaseTimer?.cancel()
        phaseTimer = nil
        idleTimer?.cancel()
        idleTimer = nil
        watcher.armed = false
        cancellation?.cancel()
        cancellation = nil
        tracker.closed(context.channel)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handle(.part(unwrapInboundIn(data)), context: context)
    }

    /// One part of a request. A client may pipeline: parts that arrive while a response is still being
    /// written wait in order (and reading pauses) until it is done.
    private func handle(_ item: Pipelined, context: ChannelHandlerContext) {
        if case .responding = state {
            if pipelined.isEmpty { try? context.channel.syncOptions?.setOption(.autoRead, value: false) }
            pipelined.append(item)
            return
        }
        guard case .part(let part) = item else {
            answerMalformed(context: context)
            return
        }
        switch part {
        case .head(let head):
            received(head, context: context)
        case .body(let chunk):
            guard case .reading(let admitted, let head, let requestID, var body) = state else { return }
            deadlines.bodyArrived(bytes: chunk.readableBytes)
            guard body.readableBytes + chunk.readableBytes <= limits.maxBodyBytes else {
                refuse(.bodyTooLarge(limit: limits.maxBodyBytes), head: head, requestID: requestID, context: context)
                return
            }
            state = .responding
            var chunk = chunk
            body.writeBuffer(&chunk)
            state = .reading(admitted, head, requestID, body)
        case .end:
            guard case .reading(let admitted, let head, let requestID, let body) = state else { return }
            perform(deadlines.busy(), context: context)
            state = .responding
            dispatch(admitted, head: head, requestID: requestID, body: body, context: context)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        perform(deadlines.readComplete(now: context.eventLoop.now), context: context)
        context.fireChannelReadComplete()
    }

    func bytesArrived() {
        guard case .idle = state, let eventLoop else { return }
        deadlines.bytesArrived(now: eventLoop.now)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { writability.becameWritable() }
        context.fireChannelWritabilityChanged()
    }

    /// The HTTP decoder gave up on the bytes (framing, syntax, sizes): answer 400 and close, after any
    /// response still being written, so answers stay in order. Anything else closes at once.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            context.close(promise: nil)
            return
        }
        handle(.malformed, context: context)
    }

    private func answerMalformed(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if case .discarding = state { return }
        perform(deadlines.busy(), context: context)
        watcher.armed = false
        state = .discarding
        pipelined.removeAll()
        write(
            .badRequest(.malformedRequest, "the request is not valid HTTP/1.1"),
            version: .http1_1,
            requestID: RequestID.make(),
            closes: true,
            context: context
        )
    }

    // MARK: Phases

    private func awaitRequest(context: ChannelHandlerContext) {
        state = .idle
        tracker.setBusy(context.channel, false)
        watcher.armed = true
        perform(deadlines.awaitRequest(limits: responder.limits, now: context.eventLoop.now), context: context)
        replayPipelined(context: context)
    }

    /// Handles the parts that waited for the previous response, in order; reading resumes once none wait.
    private func replayPipelined(context: ChannelHandlerContext) {
        guard !replaying, !pipelined.isEmpty else { return }
        replaying = true
        defer { replaying = false }
        while !pipelined.isEmpty {
            if case .responding = state { return }
            let item = pipelined.removeFirst()
            handle(item, context: context)
        }
        try? context.channel.syncOptions?.setOption(.autoRead, value: true)
        context.read()
    }

    private func received(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        switch state {
        case .idle: break
        case .reading, .responding, .discarding: return
        }
        sequence += 1
        watcher.armed = false
        perform(deadlines.busy(), context: context)
        tracker.setBusy(context.channel, true)
        let requestID = RequestID.take(from: head.headers.first(name: RequestID.headerName))
        if let problem = HeadValidator.problem(in: head, limits: limits) {
            refuse(problem, head: head, requestID: requestID, context: context)
            return
        }
        if let length = head.headers.first(name: "content-length").flatMap(Int.init), length > limits.maxBodyBytes {
            refuse(.bodyTooLarge(limit: limits.maxBodyBytes), head: head, requestID: requestID, context: context)
            return
        }
        if facts == nil {
            facts = ConnectionFacts(
                certificateNames: Self.certificateNames(context: context),
                address: context.channel.remoteAddress?.readable
            )
        }
        switch responder.admit(head: head, requestID: requestID, connection: &facts!) {
        case .failure(let error):
            refuse(error, head: head, requestID: requestID, context: context)
        case .success(let admitted):
            if head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(
                    wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))),
                    promise: nil
                )
            }
            state = .reading(admitted, head, requestID, context.channel.allocator.buffer(capacity: 0))
            perform(deadlines.headAdmitted(), context: context)
        }
    }

    private func dispatch(
        _ admitted: AdmittedRequest,
        head: HTTPRequestHead,
        requestID: String,
        body: ByteBuffer,
        context: ChannelHandlerContext
    ) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let current = sequence
        let writer = ResponseWriter(
            channel: context.channel,
            requestID: requestID,
            keepAlive: head.isKeepAlive && !tracker.isStopping,
            version: head.version,
            writability: writability,
            finished: { keepAlive in
                eventLoop.execute {
                    let (handler, context) = loopBound.value
                    guard handler.sequence == current, context.channel.isActive else {
                        if !keepAlive { context.close(promise: nil) }
                        return
                    }
                    handler.cancellation = nil
                    if keepAlive && !handler.tracker.isStopping {
                        handler.awaitRequest(context: context)
                    } else {
                        handler.state = .discarding
                        context.close(promise: nil)
                    }
                }
            }
        )
        let cancellation = RequestCancellation()
        self.cancellation = cancellation
        responder.respond(to: admitted, body: body, writer: writer, cancellation: cancellation)
    }

    /// Answers with an error and closes when the error says so (framing in doubt, body unread).
    private func refuse(
        _ error: GatewayError,
        head: HTTPRequestHead,
        requestID: String,
        context: ChannelHandlerContext
    ) {
        perform(deadlines.busy(), context: context)
        watcher.armed = false
        if head.method == .CONNECT {
            // NIO's response encoder sends no body after the head of any answer to a CONNECT (RFC 9110
            // reads that of a 2xx only), so the refusal is written whole below it, and the connection closed.
            state = .discarding
            watcher.answerAndClose(error, requestID: requestID)
            return
        }
        // A body not read yet would have to be skipped; closing is simpler and denies a slow client more.
        let hasBody =
            head.headers.contains(name: "transfer-encoding")
            || (head.headers.first(name: "content-length").flatMap(Int.init) ?? 0) > 0
        let closes = error.closesConnection || !head.isKeepAlive || hasBody
        state = closes ? .discarding : .responding
        write(error, version: head.version, requestID: requestID, closes: closes, context: context)
        if !closes { awaitRequest(context: context) }
    }

    /// Writes an error answer from the handler itself, closing afterwards when `closes`.
    private func write(
        _ error: GatewayError,
        version: HTTPVersion,
        requestID: String,
        closes: Bool,
        context: ChannelHandlerContext
    ) {
        let channel = context.channel
        let writer = ResponseWriter(
            channel: channel,
            requestID: requestID,
            keepAlive: !closes,
            version: version,
            writability: writability,
            // Kept alive, the handler waits for the next request itself (see `refuse`).
            finished: { keepAlive in if !keepAlive { channel.closeAfterAnswer() } }
        )
        writer.writeError(error)
    }

    // MARK: Deadlines

    /// Carries out what the deadlines ask for.
    private func perform(_ action: ConnectionDeadlines.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .arm(let timer, let deadline):
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let scheduled = context.eventLoop.scheduleTask(deadline: deadline) {
                let (handler, context) = loopBound.value
                if timer == .idle { handler.idleTimer = nil } else { handler.phaseTimer = nil }
                handler.perform(handler.deadlines.fired(timer, now: context.eventLoop.now), context: context)
            }
            if timer == .idle {
                idleTimer?.cancel()
                idleTimer = scheduled
            } else {
                // A request's first bytes make the connection busy: a drain waits for it.
                if timer == .header { tracker.setBusy(context.channel, true) }
                phaseTimer?.cancel()
                phaseTimer = scheduled
            }
        case .cancelPhaseTimer:
            phaseTimer?.cancel()
            phaseTimer = nil
        case .close:
            context.close(promise: nil)
        case .headerTimedOut:
            // No head was decoded, so the HTTP handlers have no request to answer: answer below them.
            state = .discarding
            watcher.answerAndClose(.timeout("the request headers did not arrive in time"), requestID: RequestID.make())
        case .bodyTooSlow:
            guard case .reading(_, let head, let requestID, _) = state else { return }
            refuse(.timeout("the request body arrived too slowly"), head: head, requestID: requestID, context: context)
        }
    }

    /// The SAN URIs and DNS names of a verified client certificate (empty without TLS or a certificate).
    private static func certificateNames(context: ChannelHandlerContext) -> [SubjectAltName] {
        guard let peer = try? context.pipeline.syncOperations.nioSSL_peerCertificate(),
            let der = try? peer.toDERBytes(),
            let certificate = try? Certificate(derEncoded: der),
            let names = try? certificate.extensions.subjectAlternativeNames
        else { return [] }
        return names.compactMap(SubjectAltName.init)
    }
}
