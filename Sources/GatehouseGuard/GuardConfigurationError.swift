/// Why a guard configuration was rejected: a stable code, the custom rule it concerns and a reason.
///
/// Errors are compared by code; the reason is for people.
public struct GuardConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let invalidPattern = Code(rawValue: "invalid-pattern")
        public static let invalidKeyword = Code(rawValue: "invalid-keyword")
        public static let invalidName = Code(rawValue: "invalid-name")
        public static let duplicateName = Code(rawValue: "duplicate-name")
        public static let invalidThreshold = Code(rawValue: "invalid-threshold")
        public static let invalidWindow = Code(rawValue: "invalid-window")

        public var description: String { rawValue }
    }

    public let code: Code
    /// The custom pattern or keyword list the error is about, if any.
    public let name: String?
    public let reason: String

    public init(_ code: Code, _ reason: String, name: String? = nil) {
        self.code = code
        self.reason = reason
        self.name = name
    }

    /// `name: reason`, or the reason alone.
    public var description: String {
        guard let name else { return reason }
        return "\(name): \(reason)"
    }
}
