import GatehouseCore

/// Small, allocation-light reads of the few fields the gateway takes from model answers. They rely
/// on JSON's rule that a quote inside a string is escaped, so `"usage"` followed by `:` is a key.
enum JSONFields {
    /// `usage.prompt_tokens` and `usage.completion_tokens` (or `input_tokens`/`output_tokens`) of the
    /// last `"usage": {...}` in `bytes`; nil when there is none, it is `null`, or it is malformed.
    static func usage(in bytes: ArraySlice<UInt8>) -> (input: Int, output: Int)? {
        guard var index = lastValue(of: "usage", in: bytes), bytes[index] == UInt8(ascii: "{") else { return nil }
        var input: Int?
        var output = 0
        var depth = 0
        while index < bytes.endIndex {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"):
                depth += 1
                index += 1
            case UInt8(ascii: "}"):
                depth -= 1
                index += 1
                if depth == 0 { return input.map { ($0, output) } }
            case UInt8(ascii: "\""):
                let (name, after) = string(in: bytes, from: index)
                index = after
                guard depth == 1 else { continue }
                var colon = skipSpace(in: bytes, from: index)
                guard colon < bytes.endIndex, bytes[colon] == UInt8(ascii: ":") else { continue }
                colon = skipSpace(in: bytes, from: colon + 1)
                guard let (value, end) = wholeNumber(in: bytes, from: colon) else { continue }
                index = end
                if name.elementsEqual("prompt_tokens".utf8) || name.elementsEqual("input_tokens".utf8) {
                    input = value
                } else if name.elementsEqual("completion_tokens".utf8) || name.elementsEqual("output_tokens".utf8) {
                    output = value
                }
            default:
                index += 1
            }
        }
        return nil
    }

    /// The whole number after the first key `name` in `bytes`.
    static func integer(named name: String, in bytes: ArraySlice<UInt8>) -> Int? {
        let needle = Array("\"\(name)\"".utf8)
        guard bytes.count >= needle.count else { return nil }
        var index = bytes.startIndex
        while index + needle.count <= bytes.endIndex {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) {
                let colon = skipSpace(in: bytes, from: index + needle.count)
                guard colon < bytes.endIndex, bytes[colon] == UInt8(ascii: ":") else { return nil }
                return wholeNumber(in: bytes, from: skipSpace(in: bytes, from: colon + 1))?.value
            }
            index += 1
        }
        return nil
    }

    /// The digits at `start` (at most twelve) as a number, and where they end; nil when there are none.
    private static func wholeNumber(in bytes: ArraySlice<UInt8>, from start: Int) -> (value: Int, end: Int)? {
        var index = start
        var value = 0
        while index < bytes.endIndex, index - start < 12, bytes[index] >= UInt8(ascii: "0"),
            bytes[index] <= UInt8(ascii: "9")
        {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return index > start ? (value, index) : nil
    }

    /// Whether the event's `choices` is an empty array (the usage-only last chunk of a stream).
    static func hasEmptyChoices(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let value = lastValue(of: "choices", in: bytes) else { return true }
        guard bytes[value] == UInt8(ascii: "[") else { return false }
        let index = skipSpace(in: bytes, from: value + 1)
        return index < bytes.endIndex && bytes[index] == UInt8(ascii: "]")
    }

    /// Appends the decoded value of every string field named one of `names` to `text`.
    static func appendStrings(named names: [String], in bytes: ArraySlice<UInt8>, to text: inout [UInt8]) {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes[index] == UInt8(ascii: "\"") else {
                index += 1
                continue
            }
            let (name, after) = string(in: bytes, from: index)
            index = after
            guard names.contains(where: { name.elementsEqual($0.utf8) }) else { continue }
            var value = skipSpace(in: bytes, from: index)
            guard value < bytes.endIndex, bytes[value] == UInt8(ascii: ":") else { continue }
            value = skipSpace(in: bytes, from: value + 1)
            guard value < bytes.endIndex, bytes[value] == UInt8(ascii: "\"") else { continue }
            index = decode(bytes, from: value, into: &text)
        }
    }

    /// A string value in a JSON text: the key it belongs to (the nearest key before it, so array items
    /// get their array's key), where its quoted text stands, and its decoded text.
    struct StringValue {
        let key: ArraySlice<UInt8>
        let range: Range<Int>
        let text: [UInt8]
    }

    /// Every string value (not key) in `bytes`, in order.
    static func stringValues(in bytes: ArraySlice<UInt8>) -> [StringValue] {
        var values: [StringValue] = []
        var key: ArraySlice<UInt8> = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes[index] == UInt8(ascii: "\"") else {
                index += 1
                continue
            }
            let start = index
            let (raw, after) = string(in: bytes, from: index)
            let next = skipSpace(in: bytes, from: after)
            if next < bytes.endIndex, bytes[next] == UInt8(ascii: ":") {
                key = raw
                index = next + 1
                continue
            }
            var text: [UInt8] = []
            _ = decode(bytes, from: start, into: &text)
            values.append(StringValue(key: key, range: start..<after, text: text))
            index = after
        }
        return values
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: some Sequence<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        JSONText.appendQuoted(text, to: &output)
        return output
    }

    /// The raw text of the string starting at `start` (a quote) and the index after its closing quote.
    private static func string(in bytes: ArraySlice<UInt8>, from start: Int) -> (ArraySlice<UInt8>, Int) {
        var index = start + 1
        while index < bytes.endIndex {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return (bytes[(start + 1)..<index], index + 1)
            default: index += 1
            }
        }
        return (bytes[(start + 1)..<bytes.endIndex], bytes.endIndex)
    }

    /// Decodes the string at `start` into `text` (escapes resolved; `\u` escapes as their UTF-8).
    private static func decode(_ bytes: ArraySlice<UInt8>, from start: Int, into text: inout [UInt8]) -> Int {
        var index = start + 1
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { return index + 1 }
            guard byte == UInt8(ascii: "\\"), index + 1 < bytes.endIndex else {
                text.append(byte)
                index += 1
                continue
            }
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "n"): text.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "t"): text.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "r"): text.append(UInt8(ascii: "\r"))
            case UInt8(ascii: "b"), UInt8(ascii: "f"): text.append(UInt8(ascii: " "))
            case UInt8(ascii: "u"):
                guard index + 4 <= bytes.endIndex,
                    let unit = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
                else { return index }
                index += 4
                var scalar = unit
                if (0xD800..<0xDC00).contains(unit), index + 6 <= bytes.endIndex, bytes[index] == UInt8(ascii: "\\"),
                    let low = UInt32(String(decoding: bytes[(index + 2)..<(index + 6)], as: UTF8.self), radix: 16),
                    (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                text.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: text.append(escaped)
            }
        }
        return index
    }

    /// Where the value of the last key `name` starts (a string `"name"` followed by `:`; the same text
    /// as a string value is passed over).
    private static func lastValue(of name: String, in bytes: ArraySlice<UInt8>) -> Int? {
        let needle = Array("\"\(name)\"".utf8)
        guard bytes.count >= needle.count else { return nil }
        var index = bytes.endIndex - needle.count
        while index >= bytes.startIndex {
            if bytes[index] == needle[0], bytes[index..<(index + needle.count)].elementsEqual(needle) {
                let colon = skipSpace(in: bytes, from: index + needle.count)
                if colon < bytes.endIndex, bytes[colon] == UInt8(ascii: ":") {
                    let value = skipSpace(in: bytes, from: colon + 1)
                    return value < bytes.endIndex ? value : nil
                }
            }
            index -= 1
        }
        return nil
    }

    private static func skipSpace(in bytes: ArraySlice<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.endIndex,
            bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\n")
                || bytes[index] == UInt8(ascii: "\t")
                || bytes[index] == UInt8(ascii: "\r")
        {
            index += 1
        }
        return index
    }
}
