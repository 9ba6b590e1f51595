import NIOCore

/// Tells a relay, on the connection's event loop, when a client connection that was full can take
/// more bytes again. Used only on that event loop (hence unchecked).
final class WritabilitySignal: @unchecked Sendable {
    private var waiters: [() -> Void] = []

    /// Runs `waiter` once, the next time the connection becomes writable.
    func whenWritable(_ waiter: @escaping () -> Void) {
        waiters.append(waiter)
    }

    func becameWritable() {
        let ready = waiters
        waiters.removeAll()
        for waiter in ready { waiter() }
    }
}
