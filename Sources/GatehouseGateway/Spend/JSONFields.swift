import GatehouseCore

/// Small, allocation-light reads of the few fields the gateway takes from model answers. They rely
/// on JSON's rule that a quote inside a string is escaped, so `"usage"` followed by `:` is a key.
/// They run on every answer, so they read the bytes through a buffer pointer (offsets from the slice's
/// start) rather than through the slice's checked, generic subscripts.
enum JSONFields {
    /// `usage.prompt_tokens` and `usage.completion_tokens` (or `input_tokens`/`output_tokens`) of the
    /// last `"usage": {...}` in `bytes`; nil when there is none, it is `null`, or it is malformed.
    static func usage(in bytes: ArraySlice<UInt8>) -> (input: Int, output: Int)? {
        bytes.withUnsafeBufferPointer { bytes in
            guard var index = lastValue(of: Name.usage, in: bytes), bytes[index] == UInt8(ascii: "{") else {
                return nil
            }
            var input: Int?
            var output = 0
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "{"):
                    depth += 1
                    index += 1
                case UInt8(ascii: "}"):
                    depth -= 1
                    index += 1
                    if depth == 0 { return input.map { ($0, output) } }
                case UInt8(ascii: "\""):
                    let name = string(in: bytes, from: index)
                    index = name.upperBound + 1
                    guard depth == 1 else { continue }
                    var colon = skipSpace(in: bytes, from: index)
                    guard colon < bytes.count, bytes[colon] == UInt8(ascii: ":") else { continue }
                    colon = skipSpace(in: bytes, from: colon + 1)
                    guard let (value, end) = wholeNumber(in: bytes, from: colon) else { continue }
                    index = end
                    if equal(bytes, name, Name.promptTokens) || equal(bytes, name, Name.inputTokens) {
                        input = value
                    } else if equal(bytes, name, Name.completionTokens) || equal(bytes, name, Name.outputTokens) {
                        output = value
                    }
                default:
                    index += 1
                }
            }
            return nil
        }
    }

    /// The whole number after the first key `"index"` in `bytes`.
    static func index(in bytes: ArraySlice<UInt8>) -> Int? {
        bytes.withUnsafeBufferPointer { bytes in
            let needle = Name.index
            guard bytes.count >= needle.count else { return nil }
            for index in 0...(bytes.count - needle.count) where bytes[index] == UInt8(ascii: "\"") {
                guard equal(bytes, index..<(index + needle.count), needle) else { continue }
                let colon = skipSpace(in: bytes, from: index + needle.count)
                guard colon < bytes.count, bytes[colon] == UInt8(ascii: ":") else { return nil }
                return wholeNumber(in: bytes, from: skipSpace(in: bytes, from: colon + 1))?.value
            }
            return nil
        }
    }

    /// Whether the event's `choices` is an empty array (the usage-only last chunk of a stream).
    static func hasEmptyChoices(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { bytes in
            guard let value = lastValue(of: Name.choices, in: bytes) else { return true }
            guard bytes[value] == UInt8(ascii: "[") else { return false }
            let index = skipSpace(in: bytes, from: value + 1)
            return index < bytes.count && bytes[index] == UInt8(ascii: "]")
        }
    }

    /// A string value in a JSON text: the key it belongs to (the nearest key before it, so array items
    /// get their array's key), where its quoted text stands, and its decoded text: the JSON text's own
    /// bytes when there is no escape in it, so the values a caller never reads (an answer's `id`,
    /// `object`, `role`) cost no copy.
    struct StringValue {
        let key: ArraySlice<UInt8>
        let range: Range<Int>
        let text: ArraySlice<UInt8>
    }

    /// Every string value (not key) in `bytes`, in order.
    static func stringValues(in bytes: ArraySlice<UInt8>) -> [StringValue] {
        let base = bytes.startIndex
        return bytes.withUnsafeBufferPointer { buffer in
            var values: [StringValue] = []
            values.reserveCapacity(8)
            var key = 0..<0
            var index = 0
            while index < buffer.count {
                guard buffer[index] == UInt8(ascii: "\"") else {
                    index += 1
                    continue
                }
                let raw = string(in: buffer, from: index)
                let after = raw.upperBound + 1
                let next = skipSpace(in: buffer, from: after)
                if next < buffer.count, buffer[next] == UInt8(ascii: ":") {
                    key = raw
                    index = next + 1
                    continue
                }
                values.append(
                    StringValue(
                        key: bytes[(base + key.lowerBound)..<(base + key.upperBound)],
                        range: (base + index)..<(base + min(after, buffer.count)),
                        text: unescaped(buffer, raw).map { $0[...] }
                            ?? bytes[(base + raw.lowerBound)..<(base + raw.upperBound)]
                    )
                )
                index = after
            }
            return values
        }
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: some Sequence<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        JSONText.appendQuoted(text, to: &output)
        return output
    }

    // MARK: Reading

    private enum Name {
        static let usage = Array(#""usage""#.utf8)
        static let choices = Array(#""choices""#.utf8)
        static let index = Array(#""index""#.utf8)
        static let promptTokens = Array("prompt_tokens".utf8)
        static let inputTokens = Array("input_tokens".utf8)
        static let completionTokens = Array("completion_tokens".utf8)
        static let outputTokens = Array("output_tokens".utf8)
    }

    private static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ name: [UInt8]) -> Bool {
        guard range.count == name.count else { return false }
        for (offset, byte) in name.enumerated() where bytes[range.lowerBound + offset] != byte { return false }
        return true
    }

    /// The digits at `start` (at most twelve) as a number, and where they end; nil when there are none.
    private static func wholeNumber(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (value: Int, end: Int)? {
        var index = start
        var value = 0
        while index < bytes.count, index - start < 12, bytes[index] >= UInt8(ascii: "0"),
            bytes[index] <= UInt8(ascii: "9")
        {
            value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        return index > start ? (value, index) : nil
    }

    /// The raw text of the string starting at `start` (a quote): from after the quote to its closing
    /// quote (or the end).
    private static func string(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Range<Int> {
        var index = start + 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return (start + 1)..<index
            default: index += 1
            }
        }
        return (start + 1)..<bytes.count
    }

    /// The decoded text of the raw string `raw` (escapes resolved; `\u` escapes as their UTF-8); nil
    /// when it has no escape, and is its own text.
    private static func unescaped(_ bytes: UnsafeBufferPointer<UInt8>, _ raw: Range<Int>) -> [UInt8]? {
        let body = UnsafeBufferPointer(rebasing: bytes[raw])
        guard body.contains(UInt8(ascii: "\\")) else { return nil }
        var text: [UInt8] = []
        text.reserveCapacity(body.count)
        var index = 0
        while index < body.count {
            let byte = body[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < body.count else {
                text.append(byte)
                index += 1
                continue
            }
            let escaped = body[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "n"): text.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "t"): text.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "r"): text.append(UInt8(ascii: "\r"))
            case UInt8(ascii: "b"), UInt8(ascii: "f"): text.append(UInt8(ascii: " "))
            case UInt8(ascii: "u"):
                guard index + 4 <= body.count, let unit = hex(body, index) else { return text }
                index += 4
                var scalar = unit
                if (0xD800..<0xDC00).contains(unit), index + 6 <= body.count, body[index] == UInt8(ascii: "\\"),
                    body[index + 1] == UInt8(ascii: "u"), let low = hex(body, index + 2),
                    (0xDC00..<0xE000).contains(low)
                {
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                }
                text.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: text.append(escaped)
            }
        }
        return text
    }

    /// The four hexadecimal digits at `start` as a number.
    private static func hex(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> UInt32? {
        var value: UInt32 = 0
        for byte in bytes[start..<(start + 4)] {
            guard let digit = byte.hexDigitValue else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Where the value of the last key `name` (quoted) starts (a string `"name"` followed by `:`; the
    /// same text as a string value is passed over).
    private static func lastValue(of name: [UInt8], in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        guard bytes.count >= name.count else { return nil }
        var index = bytes.count - name.count
        while index >= 0 {
            if bytes[index] == UInt8(ascii: "\""), equal(bytes, index..<(index + name.count), name) {
                let colon = skipSpace(in: bytes, from: index + name.count)
                if colon < bytes.count, bytes[colon] == UInt8(ascii: ":") {
                    let value = skipSpace(in: bytes, from: colon + 1)
                    return value < bytes.count ? value : nil
                }
            }
            index -= 1
        }
        return nil
    }

    private static func skipSpace(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var index = start
        while index < bytes.count,
            bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\n")
                || bytes[index] == UInt8(ascii: "\t")
                || bytes[index] == UInt8(ascii: "\r")
        {
            index += 1
        }
        return index
    }
}
