import NIOCore

extension Channel {
    /// Closes a connection after an answer that ends it (RFC 9112 §9.6): the output at once, so the
    /// client reads the answer to its end, the rest after `linger`. Bytes the client is still sending
    /// meanwhile (the rest of a body, more header lines) are read and dropped; a socket closed at once
    /// would answer them with a reset, and a reset can make the client's system throw the answer away
    /// unread.
    func closeAfterAnswer(linger: TimeAmount = .seconds(1)) {
        close(mode: .output, promise: nil)
        eventLoop.scheduleTask(in: linger) { self.close(promise: nil) }
    }
}
