import Foundation
import GatehouseCore
import GatehouseStore
import Logging
import Synchronization

/// Takes the gateway's flow records: each goes to the live listeners at once and into the aggregator;
/// closed buckets are written to the store on a queue of their own (never on an event loop), and
/// flows older than the retention are deleted. What is still open is written at `shutdown()`, so
/// records survive a restart.
public final class FlowRecorder: Sendable {
    public let aggregator: FlowAggregator
    public let hub = FlowHub()
    private let store: Store
    private let retention: Duration
    private let logger: Logger
    private let queue = DispatchQueue(label: "gatehouse.flows")
    /// Dispatch sources may be used from any thread.
    private nonisolated(unsafe) let timer: any DispatchSourceTimer
    private let lastPrune = Mutex<Date>(.distantPast)

    public init(
        store: Store,
        bucket: Duration = .seconds(15),
        retention: Duration = .seconds(7 * 86_400),
        logger: Logger
    ) {
        self.store = store
        self.aggregator = FlowAggregator(bucket: bucket)
        self.retention = retention
        self.logger = logger
        // Closed buckets are looked for every second and written a second after they end.
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + 1, repeating: 1)
        timer.setEventHandler { [weak self] in self?.flush(before: Date().addingTimeInterval(-1)) }
        timer.resume()
    }

    public func record(_ flow: FlowRecord) {
        hub.publish(flow)
        aggregator.add(flow)
    }

    /// Records many at once (an import), under one lock.
    public func record(contentsOf flows: some Collection<FlowRecord>) {
        if hub.hasListeners {
            for flow in flows { hub.publish(flow) }
        }
        aggregator.add(contentsOf: flows)
    }

    /// Writes every bucket, open or not, and stops the timer. Call once, at shutdown.
    public func shutdown() {
        timer.cancel()
        queue.sync { write(aggregator.drainAll()) }
        hub.finish()
    }

    private func flush(before cutoff: Date) {
        write(aggregator.drain(before: cutoff))
        let now = Date()
        guard now.timeIntervalSince(lastPrune.withLock { $0 }) >= 60 else { return }
        lastPrune.withLock { $0 = now }
        let seconds = Double(retention.components.seconds)
        do {
            let removed = try store.deleteFlows(endingBefore: now.addingTimeInterval(-seconds))
            if removed > 0 { logger.info("flows past retention deleted", metadata: ["gatehouse.flows": "\(removed)"]) }
        } catch {
            logger.warning("flows past retention not deleted", metadata: ["gatehouse.error": "\(error.reason)"])
        }
    }

    private func write(_ flows: [FlowRecord]) {
        guard !flows.isEmpty else { return }
        do {
            try store.insertFlows(flows)
        } catch {
            // Put them back: the next flush tries again, and nothing is lost while the store is busy.
            aggregator.add(contentsOf: flows)
            logger.warning("flows not written, will retry", metadata: ["gatehouse.error": "\(error.reason)"])
        }
    }
}
