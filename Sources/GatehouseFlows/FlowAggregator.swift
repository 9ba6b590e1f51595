import Foundation
import GatehouseCore
import Synchronization

/// Folds flow records into time buckets as Goldmane does: records with the same key in the same
/// bucket become one flow whose counters are summed and whose labels are the intersection of theirs.
/// Closed buckets are taken out with `drain(before:)`.
public final class FlowAggregator: Sendable {
    /// One time bucket: its flows, and a hash table over them (hash to first position, then a chain)
    /// that finds a record's flow without building a key value per record.
    private struct Bucket {
        var flows: [FlowRecord] = []
        var first: [Int: Int] = [:]
        var next: [Int] = []

        init(capacity: Int) {
            flows.reserveCapacity(capacity)
            first.reserveCapacity(capacity)
            next.reserveCapacity(capacity)
        }

        mutating func add(_ flow: FlowRecord, seed: () -> FlowRecord) {
            let hash = flow.keyHash
            var position = first[hash]
            while let index = position {
                if flows[index].hasSameKey(as: flow) {
                    flows[index].absorb(flow)
                    return
                }
                position = next[index] < 0 ? nil : next[index]
            }
            var made = seed()
            made.absorb(flow)
            next.append(first[hash] ?? -1)
            first[hash] = flows.count
            flows.append(made)
        }
    }

    private struct State {
        var buckets: [Int64: Bucket] = [:]
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
        add(contentsOf: CollectionOfOne(flow))
    }

    /// Adds many records under one lock.
    public func add(contentsOf flows: some Collection<FlowRecord>) {
        state.withLock { state in
            let capacity = state.lastBucketSize
            for flow in flows {
                let bucket = bucketStart(of: flow.start)
                state.buckets[bucket, default: Bucket(capacity: capacity)].add(flow) { bounded(flow, bucket: bucket) }
            }
            state.received &+= Int64(flows.count)
        }
    }

    /// Takes out every bucket that ended at or before `cutoff`, oldest first.
    public func drain(before cutoff: Date) -> [FlowRecord] {
        let value = (cutoff.timeIntervalSince1970 * 1000).rounded(.down)
        let limit = value.isFinite ? Int64(min(max(value, -9e15), 9.1e15)) : Int64.max
        return state.withLock { state in
            let closed = state.buckets.keys.filter { $0 + bucketMilliseconds <= limit }.sorted()
            return closed.flatMap { start -> [FlowRecord] in
                guard let bucket = state.buckets.removeValue(forKey: start) else { return [] }
                state.lastBucketSize = max(64, bucket.flows.count)
                return bucket.flows
            }
        }
    }

    /// A copy of what the open buckets hold, oldest bucket first, without taking it out.
    public func snapshot() -> [FlowRecord] {
        state.withLock { state in
            state.buckets.keys.sorted().flatMap { state.buckets[$0]?.flows ?? [] }
        }
    }

    /// Takes out every bucket, open or not (at shutdown).
    public func drainAll() -> [FlowRecord] {
        drain(before: .distantFuture)
    }

    /// Records added since the start, and flows waiting in open buckets.
    public var statistics: (received: Int64, pending: Int) {
        state.withLock { state in (state.received, state.buckets.values.reduce(0) { $0 + $1.flows.count }) }
    }

    private func bucketStart(of date: Date) -> Int64 {
        // Clamped: no time a log carries can trap the conversion.
        let value = (date.timeIntervalSince1970 * 1000).rounded(.down)
        let milliseconds = value.isFinite ? Int64(min(max(value, -9e15), 9e15)) : 0
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
