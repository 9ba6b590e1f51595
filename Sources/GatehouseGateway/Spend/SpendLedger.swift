import Foundation
import GatehouseStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Puts reservations, settlements and audit records into the store from one thread, many to a
/// transaction: whatever arrives while a transaction commits goes into the next one (group commit),
/// so the per-request cost of durability falls as load rises. Event loops never wait on the database;
/// they get futures.
///
/// A settlement or record whose transaction fails (disk full, database locked) is kept and retried
/// until it lands: a charge is never dropped. Its future still completes, with `.failed`, so a
/// response is not held hostage by the store.
final class SpendLedger: Service, Sendable {
    private struct Pending {
        let operation: LedgerOperation
        let promise: EventLoopPromise<LedgerOutcome>?
    }

    private struct Queue {
        var pending: [Pending] = []
        var retries: [LedgerOperation] = []
        var draining = false
    }

    private let store: Store
    private let instance: InstanceLock
    private let dataDirectory: URL
    private let logger: Logger
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let queue = Mutex(Queue())
    static let retryDelay = TimeAmount.milliseconds(200)
    /// How often reservations of gateways that died are looked for and charged.
    static let sweepInterval = Duration.seconds(10)

    /// - Parameter instance: this gateway's lock; its id marks the reservations it holds.
    init(store: Store, instance: InstanceLock, dataDirectory: URL, logger: Logger) {
        self.store = store
        self.instance = instance
        self.dataDirectory = dataDirectory
        self.logger = logger
        thread.start()
    }

    func submit(_ operation: LedgerOperation, on eventLoop: any EventLoop) -> EventLoopFuture<LedgerOutcome> {
        let promise = eventLoop.makePromise(of: LedgerOutcome.self)
        var operation = operation
        if case .reserve(var reservation) = operation {
            reservation.owner = instance.id
            operation = .reserve(reservation)
        }
        enqueue(Pending(operation: operation, promise: promise))
        return promise.futureResult
    }

    /// Charges the reservations of gateways no longer running (see `Store.settleAbandonedReservations`).
    @discardableResult
    func settleAbandoned() throws(StoreError) -> Int {
        let settled = try store.settleAbandonedReservations { [instance, dataDirectory] owner in
            owner == instance.id || InstanceLock.isRunning(owner, in: dataDirectory)
        }
        if settled > 0 {
            logger.warning(
                "charged reservations left by a gateway that stopped without settling them",
                metadata: ["gatehouse.reservations": "\(settled)"]
            )
        }
        return settled
    }

    /// Records an entry without waiting for it (requests refused before anything was spent).
    func record(_ entry: AuditEntry) {
        enqueue(Pending(operation: .record(entry), promise: nil))
    }

    private func enqueue(_ pending: Pending) {
        let start = queue.withLock { queue in
            queue.pending.append(pending)
            defer { queue.draining = true }
            return !queue.draining
        }
        if start { thread.submit { _ in self.drain() } }
    }

    /// Applies batches until the queue is empty; runs on the ledger's thread.
    private func drain() {
        while true {
            let (batch, retries) = queue.withLock { queue in
                let taken = (queue.pending, queue.retries)
                queue.pending = []
                queue.retries = []
                if taken.0.isEmpty && taken.1.isEmpty { queue.draining = false }
                return taken
            }
            if batch.isEmpty && retries.isEmpty { return }
            let operations = retries + batch.map(\.operation)
            let outcomes = store.apply(operations)
            var failed: [LedgerOperation] = []
            for (operation, outcome) in zip(operations, outcomes) {
                guard case .failed = outcome else { continue }
                if case .reserve = operation { continue }
                failed.append(operation)
            }
            Self.complete(batch, with: outcomes.dropFirst(retries.count))
            if !failed.isEmpty {
                if case .failed(let error) = outcomes.first {
                    logger.error(
                        "ledger write failed; retrying",
                        metadata: ["gatehouse.reason": "\(error)", "gatehouse.pending": "\(failed.count)"]
                    )
                }
                queue.withLock { $0.retries.append(contentsOf: failed) }
                usleep(UInt32(Self.retryDelay.nanoseconds / 1000))
            }
        }
    }

    /// Completes the batch's promises with one hop per event loop, not one per promise: waking a loop
    /// from another thread costs a system call.
    private static func complete(_ batch: [Pending], with outcomes: ArraySlice<LedgerOutcome>) {
        var byLoop: [ObjectIdentifier: (any EventLoop, [(EventLoopPromise<LedgerOutcome>, LedgerOutcome)])] = [:]
        for (pending, outcome) in zip(batch, outcomes) {
            guard let promise = pending.promise else { continue }
            let loop = promise.futureResult.eventLoop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].1.append((promise, outcome))
        }
        for (loop, completions) in byLoop.values {
            loop.execute {
                for (promise, outcome) in completions { promise.succeed(outcome) }
            }
        }
    }

    /// Charges dead gateways' reservations every `sweepInterval`; at shutdown, waits for everything
    /// queued to land.
    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: Self.sweepInterval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            do {
                try settleAbandoned()
            } catch {
                logger.error("could not look for abandoned reservations", metadata: ["gatehouse.reason": "\(error)"])
            }
        }
        for _ in 0..<50 {
            let idle = queue.withLock { !$0.draining && $0.pending.isEmpty && $0.retries.isEmpty }
            if idle { break }
            try? await Task.sleep(for: .milliseconds(100))
        }
        try await thread.shutdownGracefully()
    }
}
