import NIOCore
import NIOHTTP1

/// One connection of the fixture model: collects a request, answers it from `FixtureReply`.
final class FixtureHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private static let maximumBody = 1 << 20
    private let configuration: FixtureModel.Configuration
    private let counters: FixtureCounters
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(configuration: FixtureModel.Configuration, counters: FixtureCounters) {
        self.configuration = configuration
        self.counters = counters
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
        case .body(var buffer):
            if body.count + buffer.readableBytes <= Self.maximumBody {
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
        case .end:
            guard let head else { return }
            self.head = nil
            counters.record(head: head, body: body)
            let reply: FixtureReply
            if let status = configuration.failureStatus, head.method == .POST {
                reply = FixtureReply.error(status, "fixture_failure", "the fixture was told to fail")
            } else {
                reply = FixtureReply.answer(
                    method: head.method.rawValue,
                    path: head.uri,
                    body: body,
                    configuration: configuration
                )
            }
            respond(reply, keepAlive: head.isKeepAlive, context: context)
        }
    }

    private func respond(_ reply: FixtureReply, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "server", value: "gatehouse-fixture-model")
        if !keepAlive { headers.add(name: "connection", value: "close") }
        let status = HTTPResponseStatus(statusCode: reply.status)
        switch reply.body {
        case .json(let bytes):
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(bytes.count))
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                promise: nil
            )
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: bytes)))),
                promise: nil
            )
            finish(keepAlive: keepAlive, context: context)
        case .events(var events):
            if let cut = configuration.cutStreamAfterEvents { events = Array(events.prefix(cut)) }
            headers.add(name: "content-type", value: "text/event-stream")
            headers.add(name: "cache-control", value: "no-cache")
            if configuration.lengthOnStreams && configuration.eventInterval == .zero {
                headers.add(name: "content-length", value: String(events.reduce(0) { $0 + $1.count }))
            }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
                promise: nil
            )
            if configuration.eventInterval == .zero {
                for event in events {
                    context.write(
                        wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: event)))),
                        promise: nil
                    )
                }
                finishStream(keepAlive: keepAlive, context: context)
            } else {
                context.flush()
                stream(events[...], keepAlive: keepAlive, context: context)
            }
        }
    }

    /// Sends one event per interval, as a model producing tokens would.
    private func stream(_ events: ArraySlice<[UInt8]>, keepAlive: Bool, context: ChannelHandlerContext) {
        guard let event = events.first else {
            counters.streamFinished()
            finishStream(keepAlive: keepAlive, context: context)
            return
        }
        let interval = configuration.eventInterval.components
        let nanoseconds = interval.seconds * 1_000_000_000 + interval.attoseconds / 1_000_000_000
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) {
            let (handler, context) = loopBound.value
            guard context.channel.isActive else {
                handler.counters.streamAbandoned()
                return
            }
            context.writeAndFlush(
                handler.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: event)))),
                promise: nil
            )
            handler.stream(events.dropFirst(), keepAlive: keepAlive, context: context)
        }
    }

    /// Ends a stream, or, when configured to cut streams short, drops the connection without an end.
    private func finishStream(keepAlive: Bool, context: ChannelHandlerContext) {
        guard configuration.cutStreamAfterEvents == nil else {
            context.flush()
            context.close(promise: nil)
            return
        }
        finish(keepAlive: keepAlive, context: context)
    }

    private func finish(keepAlive: Bool, context: ChannelHandlerContext) {
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            written.whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
