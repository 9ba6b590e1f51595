import GatehouseCore

/// Labels as the `flow` table keeps them: a flat JSON object with sorted keys, written with the
/// project's one JSON string writer and read back by a parser for exactly that shape (much faster than
/// a general JSON decoder on the query path; anything else is refused).
enum FlowLabelsText {
    static func encode(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "{}" }
        var output: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in labels.keys.sorted().enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(key.utf8, to: &output)
            output.append(UInt8(ascii: ":"))
            JSONText.appendQuoted((labels[key] ?? "").utf8, to: &output)
        }
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// The labels in `text`, or nil when it is not a flat object of strings.
    static func decode(_ text: String) -> [String: String]? {
        var bytes = Array(text.utf8)[...]
        guard bytes.popFirst() == UInt8(ascii: "{") else { return nil }
        var labels: [String: String] = [:]
        if bytes.first == UInt8(ascii: "}") { return bytes.count == 1 ? labels : nil }
        while true {
            guard let key = string(&bytes), bytes.popFirst() == UInt8(ascii: ":"), let value = string(&bytes) else {
                return nil
            }
            labels[key] = value
            switch bytes.popFirst() {
            case UInt8(ascii: ","): continue
            case UInt8(ascii: "}"): return bytes.isEmpty ? labels : nil
            default: return nil
            }
        }
    }

    /// A JSON string literal at the start of `bytes`, unescaped.
    private static func string(_ bytes: inout ArraySlice<UInt8>) -> String? {
        guard bytes.popFirst() == UInt8(ascii: "\"") else { return nil }
        var output: [UInt8] = []
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: output, as: UTF8.self)
            case UInt8(ascii: "\\"):
                switch bytes.popFirst() {
                case UInt8(ascii: "\""): output.append(UInt8(ascii: "\""))
                case UInt8(ascii: "\\"): output.append(UInt8(ascii: "\\"))
                case UInt8(ascii: "/"): output.append(UInt8(ascii: "/"))
                case UInt8(ascii: "n"): output.append(UInt8(ascii: "\n"))
                case UInt8(ascii: "r"): output.append(UInt8(ascii: "\r"))
                case UInt8(ascii: "t"): output.append(UInt8(ascii: "\t"))
                case UInt8(ascii: "u"):
                    // The writer escapes only control characters this way.
                    guard bytes.count >= 4,
                        let code = UInt8(String(decoding: bytes.prefix(4), as: UTF8.self), radix: 16)
                    else { return nil }
                    bytes = bytes.dropFirst(4)
                    output.append(code)
                default: return nil
                }
            default:
                output.append(byte)
            }
        }
        return nil
    }
}
