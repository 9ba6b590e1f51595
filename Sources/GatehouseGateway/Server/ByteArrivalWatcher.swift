import NIOCore
import NIOHTTP1

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

    /// Writes the error as a complete HTTP/1.1 response in raw bytes, then closes the connection.
    func answerAndClose(_ error: GatewayError, requestID: String) {
        guard let context else { return }
        let body = error.body(requestID: requestID)
        var response =
            "HTTP/1.1 \(error.status.code) \(error.status.reasonPhrase)\r\ncontent-type: application/json\r\n"
        for (name, value) in error.headers { response += "\(name): \(value)\r\n" }
        response +=
            "content-length: \(body.utf8.count)\r\nx-request-id: \(requestID)\r\nconnection: close\r\n\r\n\(body)"
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
