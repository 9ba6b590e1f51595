import NIOCore

@testable import GatehouseGateway

extension Eventual {
    /// The value, waited for when it is not known yet.
    func get() async throws -> Value {
        switch self {
        case .now(let value): value
        case .later(let future): try await future.get()
        }
    }

    /// As a future on `loop`, to wait for many at once.
    func future(on loop: any EventLoop) -> EventLoopFuture<Value> {
        switch self {
        case .now(let value): loop.makeSucceededFuture(value)
        case .later(let future): future
        }
    }

    /// Whether the value was known at once.
    var isNow: Bool {
        if case .now = self { true } else { false }
    }
}
