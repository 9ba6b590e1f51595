import NIOHTTP1
import Synchronization

/// What a fixture model has seen: model requests (POSTs; health checks are not counted), the headers
/// of the last one, and paced streams that ran
/// to the end or were abandoned because the client (the gateway) went away.
public final class FixtureCounters: Sendable {
    private struct State {
        var requests = 0
        var lastHeaders: [(String, String)] = []
        var lastBody: [UInt8] = []
        var streamsFinished = 0
        var streamsAbandoned = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var requests: Int { state.withLock { $0.requests } }
    public var streamsFinished: Int { state.withLock { $0.streamsFinished } }
    public var streamsAbandoned: Int { state.withLock { $0.streamsAbandoned } }

    /// The last model request's body, as it arrived.
    public var lastBody: String { state.withLock { String(decoding: $0.lastBody, as: UTF8.self) } }

    /// The values of `name` in the last request's headers.
    public func lastHeader(_ name: String) -> [String] {
        state.withLock { $0.lastHeaders.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }
    }

    func record(head: HTTPRequestHead, body: [UInt8]) {
        guard head.method == .POST else { return }
        state.withLock {
            $0.requests += 1
            $0.lastHeaders = head.headers.map { ($0.name, $0.value) }
            $0.lastBody = body
        }
    }

    func streamFinished() { state.withLock { $0.streamsFinished += 1 } }
    func streamAbandoned() { state.withLock { $0.streamsAbandoned += 1 } }
}
