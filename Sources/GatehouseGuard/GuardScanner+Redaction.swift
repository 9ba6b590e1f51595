extension GuardScanner {
    /// `text` with each finding's bytes replaced by `[REDACTED:<rule>]`.
    ///
    /// Overlapping findings are replaced together, by the marker of the one that starts first.
    public static func redact(_ text: String, findings: [GuardFinding]) -> String {
        var text = text
        return text.withUTF8 { bytes in
            var output: [UInt8] = []
            output.reserveCapacity(bytes.count)
            redact(bytes, 0..<bytes.count, findings: findings, into: &output)
            return String(decoding: output, as: UTF8.self)
        }
    }

    /// Appends `range` of `bytes` to `output` with the findings (offsets into `bytes`) replaced by markers.
    static func redact(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ range: Range<Int>,
        findings: [GuardFinding],
        into output: inout [UInt8]
    ) {
        var cursor = range.lowerBound
        for finding in findings.byStart() {
            let lower = Swift.max(finding.range.lowerBound, range.lowerBound)
            let upper = Swift.min(finding.range.upperBound, range.upperBound)
            guard lower < upper else { continue }
            if lower >= cursor {
                output.append(contentsOf: bytes[cursor..<lower])
                output.append(contentsOf: "[REDACTED:\(finding.rule.name)]".utf8)
            }
            cursor = Swift.max(cursor, upper)
        }
        output.append(contentsOf: bytes[cursor..<range.upperBound])
    }
}
