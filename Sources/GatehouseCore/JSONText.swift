/// Writing JSON string literals: the one escaping rule every JSON the project writes by hand uses
/// (error bodies, audit records, rewritten answers, the fixture model's answers).
public enum JSONText {
    /// Appends `text` (UTF-8) as a JSON string literal, quotes included. Inlinable, so each caller gets
    /// a copy for its own kind of byte sequence (it runs for every string of every audit record); text in
    /// contiguous storage (a native string's UTF-8, an array) is copied a run of plain bytes at a time.
    @inlinable
    public static func appendQuoted(_ text: some Sequence<UInt8>, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        let copied: Void? = text.withContiguousStorageIfAvailable { buffer in
            var run = 0
            for index in buffer.indices where needsEscape(buffer[index]) {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[run..<index]))
                appendEscaped(buffer[index], to: &output)
                run = index + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[run...]))
        }
        if copied == nil {
            for byte in text {
                if needsEscape(byte) { appendEscaped(byte, to: &output) } else { output.append(byte) }
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    @inlinable
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    @inlinable
    static func appendEscaped(_ byte: UInt8, to output: inout [UInt8]) {
        switch byte {
        case UInt8(ascii: "\n"): output.append(contentsOf: "\\n".utf8)
        case UInt8(ascii: "\r"): output.append(contentsOf: "\\r".utf8)
        case UInt8(ascii: "\t"): output.append(contentsOf: "\\t".utf8)
        case 0..<0x20:
            output.append(contentsOf: "\\u00".utf8)
            let low = byte & 0xF
            output.append(UInt8(ascii: "0") + (byte >> 4))
            output.append(low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + (low - 10))
        default:
            output.append(UInt8(ascii: "\\"))
            output.append(byte)
        }
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text.utf8, to: &output)
        return String(decoding: output, as: UTF8.self)
    }
}
