/// A configuration compiled for scanning: detector switches, keyword tables and regular expressions.
struct ScanRules: Sendable {
    private let detectors: UInt16
    let injectionThreshold: Double
    let keywords: KeywordSet
    let patterns: [CustomPattern]
    let patternWindow: Int

    init(_ configuration: GuardConfiguration) throws(GuardConfigurationError) {
        guard (0...1).contains(configuration.injectionThreshold) else {
            throw GuardConfigurationError(.invalidThreshold, "the injection threshold must be between 0 and 1")
        }
        guard (1...1024).contains(configuration.patternWindow) else {
            throw GuardConfigurationError(.invalidWindow, "the pattern window must be 1 to 1024 bytes")
        }
        var names = Set(GuardDetector.allCases.map(\.rawValue))
        for name in configuration.patterns.map(\.name) + configuration.keywordLists.map(\.name) {
            try Self.validate(name: name)
            guard names.insert(name).inserted else {
                throw GuardConfigurationError(
                    .duplicateName,
                    "the name is taken by a built-in detector or another custom rule",
                    name: name
                )
            }
        }
        detectors = configuration.detectors.reduce(0) { $0 | $1.bit }
        injectionThreshold = configuration.injectionThreshold
        keywords = try KeywordSet(configuration.keywordLists)
        var patterns: [CustomPattern] = []
        for pattern in configuration.patterns { patterns.append(try CustomPattern(pattern)) }
        self.patterns = patterns
        patternWindow = configuration.patternWindow
    }

    @inline(__always)
    func detects(_ detector: GuardDetector) -> Bool { detectors & detector.bit != 0 }

    /// Findings of the custom patterns in `bytes` that start at or after `from`, and the offset from which
    /// a pattern could still match differently once more bytes arrive.
    ///
    /// Incomplete text is matched from the whitespace before `from`, so word boundaries behave as in the
    /// whole text; a pattern anchored with `^` or looking further back may differ in a stream.
    func patternFindings(
        _ bytes: UnsafeBufferPointer<UInt8>,
        from: Int,
        isComplete: Bool
    ) -> (findings: [GuardFinding], hold: Int) {
        var subjectStart = from
        if !isComplete {
            while subjectStart > 0 && !ByteClass.isSpace(bytes[subjectStart - 1]) { subjectStart -= 1 }
        }
        let subject = Substring(String(decoding: bytes[subjectStart...], as: UTF8.self))
        var findings: [GuardFinding] = []
        for pattern in patterns {
            for range in pattern.ranges(in: subject, base: subjectStart) where range.lowerBound >= from {
                findings.append(GuardFinding(rule: pattern.rule, range: range))
            }
        }
        guard !isComplete else { return (findings, bytes.count) }
        var hold = max(from, bytes.count - patternWindow)
        while hold > from && hold < bytes.count && ByteClass.isContinuation(bytes[hold]) { hold -= 1 }
        return (findings, hold)
    }

    private static func validate(name: String) throws(GuardConfigurationError) {
        let allowed = name.utf8.allSatisfy { byte in
            ByteClass.isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: ".")
        }
        guard !name.isEmpty, name.utf8.count <= 64, allowed else {
            throw GuardConfigurationError(
                .invalidName,
                "names are 1 to 64 letters, digits, '.', '_' or '-'",
                name: name
            )
        }
    }
}
