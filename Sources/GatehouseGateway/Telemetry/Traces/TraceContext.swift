/// A W3C Trace Context (`traceparent`): the trace a request belongs to, the span that sent it, and
/// whether it is sampled. <https://www.w3.org/TR/trace-context/>
struct TraceContext: Sendable, Hashable {
    static let headerName = "traceparent"
    /// Vendors' own trace state, passed on unchanged with the trace it belongs to.
    static let stateHeaderName = "tracestate"

    /// The 16-byte trace id, as two big-endian halves; never all zero.
    let traceHigh: UInt64
    let traceLow: UInt64
    /// The 8-byte id of the span this context names; never zero.
    let spanID: UInt64
    let sampled: Bool

    init(traceHigh: UInt64, traceLow: UInt64, spanID: UInt64, sampled: Bool) {
        self.traceHigh = traceHigh
        self.traceLow = traceLow
        self.spanID = spanID
        self.sampled = sampled
    }

    /// A `traceparent` value, or nil when it is not one (the caller's context is then ignored, as the
    /// specification asks, and a new trace starts). Version 00 has exactly four fields; a later version
    /// may add fields after them; version ff is invalid; ids of zeros and upper-case hex are invalid.
    init?(header: String) {
        let bytes = Array(header.utf8)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
            bytes[52] == UInt8(ascii: "-"),
            let version = Self.hex(bytes[0..<2]), version != 0xFF,
            version != 0 || bytes.count == 55,
            bytes.count == 55 || bytes[55] == UInt8(ascii: "-"),
            let high = Self.hex(bytes[3..<19]), let low = Self.hex(bytes[19..<35]), high | low != 0,
            let span = Self.hex(bytes[36..<52]), span != 0,
            let flags = Self.hex(bytes[53..<55])
        else { return nil }
        self.init(traceHigh: high, traceLow: low, spanID: span, sampled: flags & 1 == 1)
    }

    /// A new trace: random ids, sampled with probability `ratio`, decided from the trace id's low 56 bits
    /// (below `ratio` of their range), so a trace id gets the same decision wherever this rule meets it.
    static func starting(ratio: Double, using random: inout some RandomNumberGenerator) -> TraceContext {
        let high = random.next() as UInt64
        let low = (random.next() as UInt64) | 1
        // The low 56 bits, compared against the ratio of their range.
        let bound = ratio >= 1 ? UInt64(1) << 56 : UInt64(max(ratio, 0) * Double(UInt64(1) << 56))
        return TraceContext(
            traceHigh: high,
            traceLow: low,
            spanID: Self.spanID(using: &random),
            sampled: low & ((UInt64(1) << 56) - 1) < bound
        )
    }

    /// A new span id in this trace.
    static func spanID(using random: inout some RandomNumberGenerator) -> UInt64 {
        let id = random.next() as UInt64
        return id == 0 ? 1 : id
    }

    /// The same trace and sampling, naming another span (the one that sends the request on).
    func child(_ spanID: UInt64) -> TraceContext {
        TraceContext(traceHigh: traceHigh, traceLow: traceLow, spanID: spanID, sampled: sampled)
    }

    /// `00-TRACE-SPAN-FLAGS`.
    var header: String {
        "00-\(Self.hex(traceHigh))\(Self.hex(traceLow))-\(Self.hex(spanID))-\(sampled ? "01" : "00")"
    }

    static func hex(_ value: UInt64) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.utf8.count) + text
    }

    /// Lower-case hex digits only.
    private static func hex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for digit in digits {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = value << 4 | UInt64(digit - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = value << 4 | UInt64(digit - UInt8(ascii: "a") + 10)
            default: return nil
            }
        }
        return value
    }
}
