/// A cheap upper bound on how deeply a YAML or JSON text nests, read before any recursive parser sees it.
///
/// Flow nesting counts brackets outside quoted strings and comments; block nesting is bounded by a line's
/// indentation plus the `- ` entries that open on it. Kubernetes objects nest a few dozen levels at most.
enum NestingScan {
    static let maximumDepth = 256

    /// The first line (1-based) where the bound is passed, or nil.
    static func firstTooDeepLine(in text: String) -> Int? {
        var flow = 0
        var line = 1
        var atLineStart = true
        var indent = 0
        var quote: UInt8?
        var previous: UInt8 = UInt8(ascii: " ")
        var inComment = false
        for byte in text.utf8 {
            defer { previous = byte }
            if byte == UInt8(ascii: "\n") {
                line += 1
                atLineStart = true
                indent = 0
                inComment = false
                continue
            }
            if inComment { continue }
            if let open = quote {
                if byte == open && !(open == UInt8(ascii: "\"") && previous == UInt8(ascii: "\\")) { quote = nil }
                continue
            }
            if atLineStart {
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-") {
                    indent += 1
                    if indent > 2 * maximumDepth { return line }
                    continue
                }
                atLineStart = false
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                quote = byte
            case UInt8(ascii: "#") where previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t"):
                inComment = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flow += 1
                if flow > maximumDepth { return line }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                flow = max(0, flow - 1)
            default:
                break
            }
        }
        return nil
    }
}
