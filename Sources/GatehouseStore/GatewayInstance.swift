import Foundation
import Synchronization

/// A running gateway as the others sharing its store see it, so they can tell the budget holds of a
/// live gateway from those a dead one left behind.
///
/// On SQLite the gateways share a data directory, and an instance is its lock file (`InstanceLock`): the
/// kernel drops the lock however the process ends. On PostgreSQL the gateways share only the database,
/// and an instance is a lease there (`gateway_instance`), renewed every `renewInterval` and timed by
/// the database's clock: a gateway whose lease ran out (killed, cut off, frozen) is gone. A gateway
/// admits requests against its holds only while its own view of the lease, timed from before it asked
/// to renew, has not run out (`holdsUsable`): the others can never settle holds it still spends.
public final class GatewayInstance: Sendable {
    /// How long a lease lasts, and how often it is renewed.
    public static let leaseDuration = Duration.seconds(5)
    public static let renewInterval = Duration.seconds(1)

    public let id: String
    private let store: Store
    private let lock: InstanceLock?
    /// Until when (this process's monotonic clock, nanoseconds) this gateway may spend its holds.
    private let usableUntil = Atomic<UInt64>(0)
    private let registered = Atomic<Bool>(false)

    /// Registers a new gateway on `store`.
    public init(store: Store) throws(StoreError) {
        self.store = store
        if let directory = store.directory {
            let lock = try InstanceLock(directory: directory)
            self.lock = lock
            id = lock.id
            usableUntil.store(.max, ordering: .relaxed)
        } else {
            lock = nil
            id = InstanceID.make()
            try renew()
        }
    }

    /// Ends the lease (PostgreSQL): the gateway stopped in order and holds nothing.
    public func end() {
        if lock == nil { try? store.endLease(id) }
    }

    /// Renews the lease (PostgreSQL); throws when the store cannot be reached, and `.conflict` when
    /// another gateway settled this one's holds: it must not go on.
    public func renew() throws(StoreError) {
        guard lock == nil else { return }
        let asked = DispatchTime.now().uptimeNanoseconds
        try store.renewLease(id, first: !registered.load(ordering: .relaxed), for: Self.leaseDuration)
        registered.store(true, ordering: .relaxed)
        let lease = UInt64(Self.leaseDuration / .nanoseconds(1))
        usableUntil.store(asked + lease - lease / 5, ordering: .releasing)
    }

    /// Whether this gateway may still spend what it holds without asking the store.
    public var holdsUsable: Bool {
        DispatchTime.now().uptimeNanoseconds < usableUntil.load(ordering: .acquiring)
    }

    /// Whether the gateway `owner` is running (this one is).
    public func isRunning(_ owner: String) -> Bool {
        if owner == id { return true }
        guard let directory = store.directory else { return (try? store.leaseIsLive(owner)) ?? true }
        return InstanceLock.isRunning(owner, in: directory)
    }
}
