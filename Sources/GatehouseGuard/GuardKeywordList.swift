/// A named list of words or phrases, matched as whole words and ignoring ASCII case.
public struct GuardKeywordList: Sendable, Hashable {
    /// The rule name in findings and redaction markers: letters, digits, `.`, `_` and `-`.
    public var name: String
    /// The words; each starts with a letter or digit.
    public var words: [String]

    public init(name: String, words: [String]) {
        self.name = name
        self.words = words
    }
}
