import GatehouseCluster
import Synchronization

/// Where the watcher leaves its updates for the command: everything that arrived while the last batch
/// was being evaluated is taken at once, so a burst of changes is loaded once, not once per change.
final class UpdateInbox: Sendable {
    private let pending = Mutex<[ClusterUpdate]>([])
    private let signal: AsyncStream<Void>.Continuation
    /// One element whenever updates are waiting (several arrivals make one).
    let arrivals: AsyncStream<Void>

    init() {
        (arrivals, signal) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func put(_ update: ClusterUpdate) {
        pending.withLock { $0.append(update) }
        signal.yield()
    }

    /// Every update waiting, oldest first.
    func take() -> [ClusterUpdate] {
        pending.withLock { updates in
            defer { updates = [] }
            return updates
        }
    }

    /// No more updates will come: `arrivals` ends once the last is taken.
    func finish() { signal.finish() }
}
