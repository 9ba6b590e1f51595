/// Finds secrets, personal data, prompt injection and custom rules in text, without any external service.
///
/// Built-in detectors scan UTF-8 bytes in one linear pass; only custom patterns use `Regex`.
public struct GuardScanner: Sendable {
    public let configuration: GuardConfiguration
    let rules: ScanRules

    /// Compiles the configuration's custom patterns and keyword lists.
    ///
    /// - Throws: ``GuardConfigurationError`` naming the pattern or list that is invalid.
    public init(_ configuration: GuardConfiguration = GuardConfiguration()) throws(GuardConfigurationError) {
        self.configuration = configuration
        rules = try ScanRules(configuration)
    }

    /// The findings in `text`, sorted by start; overlapping findings of one rule are merged.
    public func scan(_ text: String) -> [GuardFinding] {
        var text = text
        return text.withUTF8 { bytes in
            var pass = ScanPass(bytes, from: 0, isComplete: true, rules: rules)
            pass.run()
            guard !rules.patterns.isEmpty else { return pass.findings.resolved() }
            return (pass.findings + rules.patternFindings(bytes, from: 0, isComplete: true).findings).resolved()
        }
    }
}
