/// A custom pattern, compiled once when its scanner is built.
///
/// `Regex` is not declared `Sendable` because its output type need not be, but a compiled expression is
/// immutable and its lazily lowered program is published atomically; the scanner only reads match ranges.
struct CustomPattern: @unchecked Sendable {
    let rule: GuardRule
    private let regex: Regex<AnyRegexOutput>

    init(_ pattern: GuardPattern) throws(GuardConfigurationError) {
        do {
            regex = try Regex(pattern.pattern)
        } catch {
            throw GuardConfigurationError(
                .invalidPattern,
                "the pattern does not compile: \(error)",
                name: pattern.name
            )
        }
        rule = .pattern(pattern.name)
        // Lower the expression now rather than on the first scan, which would pay for it.
        _ = "".firstMatch(of: regex)
    }

    /// Non-empty matches in `subject`, as UTF-8 byte ranges offset by `base`.
    func ranges(in subject: Substring, base: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        for match in subject.matches(of: regex) where !match.range.isEmpty {
            let lower = base + subject.utf8.distance(from: subject.startIndex, to: match.range.lowerBound)
            let upper = lower + subject.utf8.distance(from: match.range.lowerBound, to: match.range.upperBound)
            ranges.append(lower..<upper)
        }
        return ranges
    }
}
