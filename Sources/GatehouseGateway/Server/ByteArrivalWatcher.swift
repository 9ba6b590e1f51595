import NIOCore

/// Sits before the HTTP decoder and tells the connection handler when bytes of a new request arrive,
/// so the header deadline runs from a request's first byte while idle connections get the (longer)
/// idle timeout.
final class ByteArrivalWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Called once on the next bytes, then cleared.
    var onBytes: (() -> Void)?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let onBytes {
            self.onBytes = nil
            onBytes()
        }
        context.fireChannelRead(data)
    }
}
