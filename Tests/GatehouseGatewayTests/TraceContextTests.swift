import GatehouseTesting
import Testing

@testable import GatehouseGateway

/// W3C Trace Context, level 1 (<https://www.w3.org/TR/trace-context/#traceparent-header>), with cases
/// after the specification's own test suite (test/test.py: the version, field lengths, zero ids, case).
@Suite struct TraceContextTests {
    @Test func theSpecificationsExampleIsReadAndWrittenBack() throws {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let context = try #require(TraceContext(header: header))
        #expect(context.traceHigh == 0x4bf9_2f35_77b3_4da6)
        #expect(context.traceLow == 0xa3ce_929d_0e0e_4736)
        #expect(context.spanID == 0x00f0_67aa_0ba9_02b7)
        #expect(context.sampled)
        #expect(context.header == header)
        let unsampled = try #require(TraceContext(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
        #expect(!unsampled.sampled)
        // Only the sampled bit is read; the other flags are not carried on.
        let flagged = try #require(TraceContext(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09"))
        #expect(flagged.sampled)
        #expect(flagged.header.hasSuffix("-01"))
    }

    @Test(arguments: [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-not-be-like",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba9-2b7-01",
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ])
    func anInvalidTraceparentIsIgnored(header: String) {
        #expect(TraceContext(header: header) == nil)
    }

    @Test func aLaterVersionMayAddFieldsAfterTheFourItKnows() throws {
        let context = try #require(
            TraceContext(header: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future-will-be-like")
        )
        #expect(context.sampled)
        #expect(context.header == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        #expect(TraceContext(header: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") != nil)
        #expect(TraceContext(header: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.future") == nil)
    }

    @Test func aNewTraceIsSampledAtTheRatioAndHasNoZeroIDs() {
        var random = SeededGenerator(seed: 19)
        func share(_ ratio: Double) -> Int {
            (0..<10_000).count { _ in TraceContext.starting(ratio: ratio, using: &random).sampled }
        }
        #expect(share(0) == 0)
        #expect(share(1) == 10_000)
        // Binomial(10,000, 0.25): 2,500 ± 43 per standard deviation; ± 300 is seven of them.
        #expect((2_200...2_800).contains(share(0.25)))
        for _ in 0..<1_000 {
            let context = TraceContext.starting(ratio: 1, using: &random)
            #expect(context.traceHigh | context.traceLow != 0 && context.spanID != 0)
            #expect(TraceContext(header: context.header) == context)
        }
    }

    @Test func aChildKeepsTheTraceAndItsSamplingDecision() throws {
        let caller = try #require(TraceContext(header: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"))
        let child = caller.child(0xabc)
        #expect(child.header == "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000abc-00")
    }

    @Test func aRequestContinuesTheCallersTraceOrStartsOne() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let continued = RequestSpans(traceparent: header, ratio: 0, started: .now)
        #expect(continued.parentSpanID == 0x00f0_67aa_0ba9_02b7)
        #expect(continued.context.sampled, "the caller's decision wins over the ratio")
        #expect(continued.upstreamHeader.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-"))
        #expect(continued.upstreamHeader != header && continued.upstreamSpanID != continued.context.spanID)
        let started = RequestSpans(traceparent: "00-garbage", ratio: 0, started: .now)
        #expect(started.parentSpanID == nil && !started.context.sampled)
    }
}
