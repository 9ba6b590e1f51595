import Foundation
import GatehouseCore
import Synchronization

/// Folds flow records into time buckets as Goldmane does: records with the same key in the same
/// bucket become one flow whose counters are summed and whose labels are the intersection of theirs.
/// Closed buckets are taken out with `drain(before:)`.
public final class FlowAggregator: Sendable {
    private struct State {
        var buckets: [Int64: [FlowKey: FlowRecord]] = [:]
        var received: Int64 = 0
        /// The size of the last bucket taken out: a new bucket starts with room for as many.
        var lastBucketSize = 64
    }

    /// The bucket length in milliseconds.
    public let bucketMilliseconds: Int64
    private let state = Mutex(State())

    public init(bucket: Duration = .seconds(15)) {
        let parts = bucket.components
        bucketMilliseconds = max(1000, parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000)
    }

    /// Adds a record; its `start` picks the bucket, and its times become the bucket's bounds.
    public func add(_ flow: FlowRecord) {
        let key = flow.key
        let bucket = bucketStart(of: flow.start)
        state.withLock { state in
            state.received &+= 1
            let capacity = state.lastBucketSize
            state.buckets[bucket, default: Dictionary(minimumCapacity: capacity)][
                key,
                default: bounded(flow, bucket: bucket)
            ]
            .absorbCounters(of: flow)
        }
    }

    /// Adds many records under one lock.
    public func add(contentsOf flows: some Sequence<FlowRecord>) {
        state.withLock { state in
            let capacity = state.lastBucketSize
            for flow in flows {
                let bucket = bucketStart(of: flow.start)
                state.received &+= 1
                state.buckets[bucket, default: Dictionary(minimumCapacity: capacity)][
                    flow.key,
                    default: bounded(flow, bucket: bucket)
                ]
                .absorbCounters(of: flow)
            }
        }
    }

    /// Takes out every bucket that ended at or before `cutoff`, oldest first.
    public func drain(before cutoff: Date) -> [FlowRecord] {
        let limit = Int64((cutoff.timeIntervalSince1970 * 1000).rounded(.down))
        return state.withLock { state in
            let closed = state.buckets.keys.filter { $0 + bucketMilliseconds <= limit }.sorted()
            return closed.flatMap { start -> [FlowRecord] in
                guard let bucket = state.buckets.removeValue(forKey: start) else { return [] }
                state.lastBucketSize = max(64, bucket.count)
                return Array(bucket.values)
            }
        }
    }

    /// A copy of what the open buckets hold, oldest bucket first, without taking it out.
    public func snapshot() -> [FlowRecord] {
        state.withLock { state in
            state.buckets.keys.sorted().flatMap { state.buckets[$0].map { Array($0.values) } ?? [] }
        }
    }

    /// Takes out every bucket, open or not (at shutdown).
    public func drainAll() -> [FlowRecord] {
        drain(before: .distantFuture)
    }

    /// Records added since the start, and flows waiting in open buckets.
    public var statistics: (received: Int64, pending: Int) {
        state.withLock { state in (state.received, state.buckets.values.reduce(0) { $0 + $1.count }) }
    }

    private func bucketStart(of date: Date) -> Int64 {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let remainder = milliseconds % bucketMilliseconds
        return milliseconds - (remainder < 0 ? remainder + bucketMilliseconds : remainder)
    }

    /// `flow` with zeroed counters and the bucket's bounds: the seed of an aggregated flow.
    private func bounded(_ flow: FlowRecord, bucket: Int64) -> FlowRecord {
        var seed = flow
        seed.counters = FlowCounters(requests: 0)
        seed.start = Date(timeIntervalSince1970: Double(bucket) / 1000)
        seed.end = Date(timeIntervalSince1970: Double(bucket + bucketMilliseconds) / 1000)
        return seed
    }
}

extension FlowRecord {
    /// Sums counters and intersects labels, keeping this flow's (bucket) times.
    fileprivate mutating func absorbCounters(of other: FlowRecord) {
        let (start, end) = (self.start, self.end)
        absorb(other)
        self.start = start
        self.end = end
    }
}
