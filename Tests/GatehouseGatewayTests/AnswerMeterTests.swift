import GatehouseCore
import NIOCore
import Testing

@testable import GatehouseGateway

/// The meter on its own, fed the bytes an upstream sends: events that arrive in many pieces, and an
/// upstream that goes past the bound it was sent.
@Suite struct AnswerMeterTests {
    static func event(_ text: String) -> String {
        "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\(text)\"}}]}\n\n"
    }

    /// Each piece used to send the search for the event's end back to the event's first byte: an event
    /// of 1 MiB in 64-byte pieces took time growing with the square of its size.
    @Test func anEventInManyPiecesIsSearchedOnce() {
        let meter = AnswerMeter(stream: true, dropUsageOnlyEvents: false, answerGuard: nil)
        let bytes = Array(Self.event(String(repeating: "a", count: 1 << 20)).utf8)
        var relayed = 0
        let elapsed = ContinuousClock().measure {
            var offset = 0
            while offset < bytes.count {
                let piece = bytes[offset..<min(offset + 64, bytes.count)]
                relayed += meter.consume(ByteBuffer(bytes: piece))?.readableBytes ?? 0
                offset += 64
            }
        }
        #expect(relayed == bytes.count)
        #expect(elapsed < .seconds(3), "\(elapsed)")
    }

    @Test func anUpstreamPastItsBoundIsEndedThere() {
        let meter = AnswerMeter(stream: true, dropUsageOnlyEvents: false, answerGuard: nil, outputBound: 2)
        let output = ["", "One", " two", " three", " four"].map { Self.event($0) }.joined()
        let relayed = String(buffer: meter.consume(ByteBuffer(string: output)) ?? ByteBuffer())
        #expect(relayed.contains("One") && relayed.contains("two") && !relayed.contains("three"))
        #expect(relayed.contains("\"finish_reason\":\"length\""))
        #expect(relayed.hasSuffix("data: [DONE]\n\n"))
        #expect(meter.overran && meter.stopped)
        #expect(meter.usage().output >= 2)
        #expect(meter.consume(ByteBuffer(string: Self.event(" five"))) == nil)
    }

    @Test func reasoningAndToolCallsCountAndAReportedOverrunIsNoted() {
        let reasoning = AnswerMeter(stream: true, dropUsageOnlyEvents: false, answerGuard: nil, outputBound: 1)
        let thinking = #"data: {"choices":[{"index":0,"delta":{"reasoning_content":"hmm"}}]}"# + "\n\n"
        let calling = #"data: {"choices":[{"index":0,"delta":{"tool_calls":[{"function":{"arguments":"{"}}]}}]}"#
        _ = reasoning.consume(ByteBuffer(string: thinking + calling + "\n\n"))
        #expect(reasoning.overran && reasoning.stopped)
        let reported = AnswerMeter(stream: true, dropUsageOnlyEvents: false, answerGuard: nil, outputBound: 5)
        let usage = #"data: {"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":40}}"# + "\n\n"
        _ = reported.consume(ByteBuffer(string: Self.event("all at once") + usage))
        _ = reported.finish()
        #expect(reported.overran && reported.usage().output == 40)
    }

    @Test func aWholeAnswerReportingMoreThanItsBoundIsAnOverrun() {
        let meter = AnswerMeter(stream: false, dropUsageOnlyEvents: false, answerGuard: nil, outputBound: 3)
        let answer =
            #"{"choices":[{"message":{"content":"a b c d"}}],"usage":{"prompt_tokens":2,"completion_tokens":9}}"#
        _ = meter.consume(ByteBuffer(string: answer))
        _ = meter.finish()
        #expect(meter.overran)
        #expect(meter.usage().output == 9 && !meter.usage().estimated)
        let kept = AnswerMeter(stream: false, dropUsageOnlyEvents: false, answerGuard: nil, outputBound: 9)
        _ = kept.consume(ByteBuffer(string: answer))
        _ = kept.finish()
        #expect(!kept.overran)
    }
}
