/// Why a selector did not parse, and at which column (1-based) of its text.
public struct SelectorError: Error, Sendable, Hashable, CustomStringConvertible {
    public let column: Int
    public let reason: String

    public init(column: Int, reason: String) {
        self.column = column
        self.reason = reason
    }

    public var description: String { "column \(column): \(reason)" }
}
