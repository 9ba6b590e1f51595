/// A named regular expression (Swift `Regex` syntax) whose matches are reported under its name.
public struct GuardPattern: Sendable, Hashable {
    /// The rule name in findings and redaction markers: letters, digits, `.`, `_` and `-`.
    public var name: String
    /// The expression; it is compiled when a scanner is built.
    public var pattern: String

    public init(name: String, pattern: String) {
        self.name = name
        self.pattern = pattern
    }
}
