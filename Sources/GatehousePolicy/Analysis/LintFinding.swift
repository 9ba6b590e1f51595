/// One thing a reviewer of zero-trust policies should look at, with a stable code and the object it is about.
public struct LintFinding: Sendable, Hashable, Codable {
    public enum Severity: String, Sendable, Hashable, Codable, Comparable {
        case info
        case warning
        case error

        private var rank: Int { self == .info ? 0 : (self == .warning ? 1 : 2) }
        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
    }

    /// Stable, kebab-case: scripts and suppressions key on it.
    public let code: String
    public let severity: Severity
    /// The object: `NetworkPolicy ns/name`, `Namespace ns`, ...
    public let object: String
    /// Where in the object (`spec.ingress[1]`), when it is about a part of it.
    public let field: String?
    public let message: String
    public let location: SourceLocation?

    public init(
        code: String,
        severity: Severity,
        object: String,
        field: String? = nil,
        message: String,
        location: SourceLocation? = nil
    ) {
        self.code = code
        self.severity = severity
        self.object = object
        self.field = field
        self.message = message
        self.location = location
    }
}
