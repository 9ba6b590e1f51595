import GatehouseCore
import Synchronization

/// Hands each flow record, as it happens, to the live listeners whose filter matches it (the admin
/// API's SSE stream). With no listener, publishing costs one atomic load.
public final class FlowHub: Sendable {
    /// Records a slow listener may fall behind by before the oldest are dropped.
    public static let bufferLimit = 4096

    private struct Listener {
        let filter: FlowFilter
        let continuation: AsyncStream<FlowRecord>.Continuation
    }

    private let listeners = Mutex<[Int: Listener]>([:])
    private let listenerCount = Atomic<Int>(0)
    private let nextID = Atomic<Int>(0)

    public init() {}

    /// Whether anyone listens (publishing to no one is skipped).
    public var hasListeners: Bool { listenerCount.load(ordering: .relaxed) > 0 }

    public func publish(_ flow: FlowRecord) {
        guard hasListeners else { return }
        let matching = listeners.withLock { listeners in
            listeners.values.filter { $0.filter.matches(flow) }.map(\.continuation)
        }
        for continuation in matching { continuation.yield(flow) }
    }

    /// A stream of the records `filter` matches from now on; it ends when the caller stops iterating.
    public func subscribe(_ filter: FlowFilter) -> AsyncStream<FlowRecord> {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream.makeStream(
            of: FlowRecord.self,
            bufferingPolicy: .bufferingNewest(Self.bufferLimit)
        )
        listeners.withLock { $0[id] = Listener(filter: filter, continuation: continuation) }
        listenerCount.add(1, ordering: .relaxed)
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            if self.listeners.withLock({ $0.removeValue(forKey: id) }) != nil {
                self.listenerCount.subtract(1, ordering: .relaxed)
            }
        }
        return stream
    }

    /// Ends every stream (at shutdown).
    public func finish() {
        let all = listeners.withLock { listeners in
            defer { listeners.removeAll() }
            return listeners.values.map(\.continuation)
        }
        listenerCount.store(0, ordering: .relaxed)
        for continuation in all { continuation.finish() }
    }
}
