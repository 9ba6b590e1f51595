/// Where a rule matched in scanned text, never what it matched.
///
/// Findings go into audit records, so they carry byte offsets and no text from the match.
public struct GuardFinding: Sendable, Hashable, CustomStringConvertible {
    /// The rule that matched.
    public let rule: GuardRule
    /// UTF-8 byte offsets of the match in the scanned text.
    public let range: Range<Int>
    /// The prompt-injection score in `0...1`; `nil` for every other rule.
    public let score: Double?

    public init(rule: GuardRule, range: Range<Int>, score: Double? = nil) {
        self.rule = rule
        self.range = range
        self.score = score
    }

    /// `rule at bytes start..<end`, with the score when there is one; safe to log.
    public var description: String {
        let place = "\(rule.name) at bytes \(range.lowerBound)..<\(range.upperBound)"
        guard let score else { return place }
        let hundredths = Int((score * 100).rounded())
        let fraction = hundredths % 100 < 10 ? "0\(hundredths % 100)" : "\(hundredths % 100)"
        return "\(place), score \(hundredths / 100).\(fraction)"
    }

    func shifted(by offset: Int) -> GuardFinding {
        GuardFinding(rule: rule, range: (range.lowerBound + offset)..<(range.upperBound + offset), score: score)
    }
}
