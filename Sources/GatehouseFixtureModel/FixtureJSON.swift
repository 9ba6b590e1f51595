import GatehouseCore

/// A JSON value the fixture model writes, with object members in the order given (members whose value is
/// `nil` left out).
///
/// Written by hand rather than through `JSONSerialization`: Foundation's writer (dynamic casts, a
/// sort per object) cost the fixture about 1.3 ms of CPU per streamed answer, more than any gateway in
/// front of it, and every benchmark through the fixture measured that too.
indirect enum FixtureJSON: Sendable {
    case string(String)
    case int(Int)
    case number(Double)
    case bool(Bool)
    case null
    case array([FixtureJSON])
    case object(KeyValuePairs<String, FixtureJSON?>)

    /// The value as UTF-8 JSON text.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .string(let text): JSONText.appendQuoted(text.utf8, to: &out)
        case .int(let value): out += String(value).utf8
        case .number(let value): out += (value.isFinite ? "\(value)" : "null").utf8
        case .bool(let value): out += (value ? "true" : "false").utf8
        case .null: out += "null".utf8
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            var first = true
            for case (let key, let value?) in members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONText.appendQuoted(key.utf8, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }
}
