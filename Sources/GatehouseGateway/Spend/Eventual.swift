import NIOCore

/// A value known now, or later on an event loop: what the request's bookkeeping answers. Quotas kept in
/// memory, reservations out of a hold and charges made durable in a journal are answered at once, and a
/// request then takes its next step without a future made, completed and released for each of them;
/// only what must ask the store (or wait for a budget) is a future.
enum Eventual<Value: Sendable>: Sendable {
    case now(Value)
    case later(EventLoopFuture<Value>)
}
