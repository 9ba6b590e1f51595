import NIOCore

/// Sits before the HTTP decoder and tells the connection handler when bytes of a new request arrive,
/// so the header deadline runs from a request's first byte while idle connections get the (longer)
/// idle timeout. It also answers requests whose head never arrived: below the HTTP handlers, which
/// have no request to answer.
final class ByteArrivalWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Told of the next bytes while `armed`; then disarmed.
    weak var observer: (any ByteArrivalObserver)?
    var armed = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Writes a complete HTTP/1.1 response as raw bytes, then closes the connection.
    func answerAndClose(status: String, body: String, requestID: String) {
        guard let context else { return }
        let response =
            "HTTP/1.1 \(status)\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n"
            + "x-request-id: \(requestID)\r\nconnection: close\r\n\r\n\(body)"
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response))).whenComplete { _ in
            channel.closeAfterAnswer()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if armed {
            armed = false
            observer?.bytesArrived()
        }
        context.fireChannelRead(data)
    }
}

/// Whoever wants to know when a connection's next bytes arrive.
protocol ByteArrivalObserver: AnyObject {
    func bytesArrived()
}
