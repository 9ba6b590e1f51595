import Foundation
import GatehouseCore
import GatehouseFlows
import Testing

@Suite struct FlowAggregatorTests {
    let bucketStart = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func sameKeyInOneBucketIsSummedAndLabelsAreIntersected() throws {
        let aggregator = FlowAggregator(bucket: .seconds(15))
        aggregator.add(FlowSamples.request(labels: ["team": "research", "tier": "gold"], at: bucketStart))
        aggregator.add(FlowSamples.request(labels: ["team": "research", "tier": "free"], at: bucketStart + 5))
        aggregator.add(FlowSamples.request(labels: ["team": "research"], at: bucketStart + 14.9))
        let flows = aggregator.drainAll()
        #expect(flows.count == 1)
        let flow = try #require(flows.first)
        #expect(flow.counters.requests == 3)
        #expect(flow.counters.tokensIn == 30)
        #expect(flow.counters.tokensOut == 60)
        #expect(flow.counters.cost == Cost(picodollars: 3_000))
        #expect(flow.counters.durationMicroseconds == 4_500)
        #expect(flow.counters.maximumDurationMicroseconds == 1_500)
        #expect(flow.sourceLabels == ["team": "research"])
        #expect(flow.start == bucketStart)
        #expect(flow.end == bucketStart + 15)
    }

    @Test func differentKeysAndBucketsStayApart() {
        let aggregator = FlowAggregator(bucket: .seconds(15))
        aggregator.add(FlowSamples.request(at: bucketStart))
        aggregator.add(FlowSamples.request(at: bucketStart + 15))
        aggregator.add(FlowSamples.request(model: "large", at: bucketStart))
        aggregator.add(FlowSamples.request(at: bucketStart, action: .deny, reason: "forbidden"))
        aggregator.add(FlowSamples.request(at: bucketStart, action: .deny, reason: "budget_exceeded"))
        var traced = FlowSamples.request(at: bucketStart)
        traced.policies = FlowSamples.denyTrace
        aggregator.add(traced)
        #expect(aggregator.statistics.received == 6)
        #expect(aggregator.statistics.pending == 6)
        // Only the first bucket has closed 15 s after it began.
        let first = aggregator.drain(before: bucketStart + 15)
        #expect(first.count == 5)
        #expect(first.allSatisfy { $0.start == bucketStart })
        let second = aggregator.drainAll()
        #expect(second.count == 1)
        #expect(second.first?.start == bucketStart + 15)
        #expect(aggregator.statistics.pending == 0)
    }

    @Test func timesBeforeTheEpochFallIntoTheRightBucket() {
        let aggregator = FlowAggregator(bucket: .seconds(15))
        aggregator.add(FlowSamples.request(at: Date(timeIntervalSince1970: -1)))
        #expect(aggregator.drainAll().first?.start == Date(timeIntervalSince1970: -15))
    }
}
