import Testing

@testable import GatehouseGateway

/// The small reads of model answers: usage, empty choices, string values by key.
@Suite struct JSONFieldsTests {
    static func bytes(_ text: String) -> ArraySlice<UInt8> { Array(text.utf8)[...] }

    @Test func usageIsTheLastUsageKeyNotAStringThatSaysUsage() {
        let answer = #"{"usage":{"prompt_tokens":3,"completion_tokens":4,"details":{"cached":9}},"note":"usage"}"#
        #expect(JSONFields.usage(in: Self.bytes(answer)).map { [$0.input, $0.output] } == [3, 4])
        #expect(JSONFields.usage(in: Self.bytes(#"{"choices":[],"usage":null}"#)) == nil)
        #expect(JSONFields.usage(in: Self.bytes(#"{"usage":{"completion_tokens":4}}"#)) == nil)
        #expect(
            JSONFields.usage(in: Self.bytes(#"{"usage":{"input_tokens":5,"output_tokens":6}}"#)).map {
                [$0.input, $0.output]
            } == [5, 6]
        )
    }

    @Test func emptyChoicesAndStringValues() {
        #expect(JSONFields.hasEmptyChoices(Self.bytes(#"{"choices": [ ],"usage":{}}"#)))
        #expect(!JSONFields.hasEmptyChoices(Self.bytes(#"{"choices":[{"index":0}]}"#)))
        let values = JSONFields.stringValues(in: Self.bytes(#"{"a":"x\n\u00e9","input":["p","q"],"b":1}"#))
        #expect(values.map { String(decoding: $0.key, as: UTF8.self) } == ["a", "input", "input"])
        #expect(values.map { String(decoding: $0.text, as: UTF8.self) } == ["x\né", "p", "q"])
        #expect(JSONFields.index(in: Self.bytes(#"{"choices":[{"index": 2}]}"#)) == 2)
        #expect(String(decoding: JSONFields.quoted(Array("a\"b\u{1}".utf8)), as: UTF8.self) == #""a\"b\u0001""#)
    }

    @Test func escapesSurrogatePairsAndUnterminatedStrings() {
        let values = JSONFields.stringValues(
            in: Self.bytes(#"{"a":"plain","b":"\ud83d\ude00 \"q\"","c":"\u00zz","d":"open"#)
        )
        #expect(values.map { String(decoding: $0.key, as: UTF8.self) } == ["a", "b", "c", "d"])
        #expect(values.map { String(decoding: $0.text, as: UTF8.self) } == ["plain", "😀 \"q\"", "", "open"])
        let text = #"{"a":"plain"}"#
        #expect(values.first.map { String(decoding: Array(text.utf8)[$0.range], as: UTF8.self) } == #""plain""#)
        #expect(JSONFields.index(in: Self.bytes(#"{"index":"x"}"#)) == nil)
        #expect(
            String(decoding: JSONFields.quoted(Array("run\u{0}of\\text\n".utf8)), as: UTF8.self)
                == #""run\u0000of\\text\n""#
        )
    }
}
