/// Which guardrails a scanner applies and the custom rules it adds.
public struct GuardConfiguration: Sendable, Hashable {
    /// Built-in detectors to run; all of them by default.
    public var detectors: Set<GuardDetector>
    /// The prompt-injection score, in `0...1`, at or above which a finding is reported.
    public var injectionThreshold: Double
    /// Named regular expressions.
    public var patterns: [GuardPattern]
    /// Named keyword lists.
    public var keywordLists: [GuardKeywordList]
    /// The longest text, in UTF-8 bytes, a custom pattern is expected to match (`1...1024`).
    ///
    /// A ``GuardStream`` holds back this many bytes while custom patterns are configured, so that a match
    /// split across deltas is still found before its bytes are released.
    public var patternWindow: Int

    public init(
        detectors: Set<GuardDetector> = Set(GuardDetector.allCases),
        injectionThreshold: Double = 0.5,
        patterns: [GuardPattern] = [],
        keywordLists: [GuardKeywordList] = [],
        patternWindow: Int = 128
    ) {
        self.detectors = detectors
        self.injectionThreshold = injectionThreshold
        self.patterns = patterns
        self.keywordLists = keywordLists
        self.patternWindow = patternWindow
    }
}
