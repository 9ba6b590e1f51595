/// A problem with input: a stable code, a reason for a person, and where it is (file, line, field path).
///
/// Errors are compared by code in tests; the text is for people.
public struct ResourceError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }

        public static let unreadable = Code(rawValue: "unreadable")
        public static let syntax = Code(rawValue: "syntax")
        public static let wrongType = Code(rawValue: "wrong-type")
        public static let missingField = Code(rawValue: "missing-field")
        public static let invalidValue = Code(rawValue: "invalid-value")
        public static let invalidCIDR = Code(rawValue: "invalid-cidr")
        public static let invalidSelector = Code(rawValue: "invalid-selector")
        public static let invalidPort = Code(rawValue: "invalid-port")
        public static let invalidProtocol = Code(rawValue: "invalid-protocol")
        public static let unknownKind = Code(rawValue: "unknown-kind")
        public static let unknownField = Code(rawValue: "unknown-field")
        public static let duplicate = Code(rawValue: "duplicate")
        public static let unknownReference = Code(rawValue: "unknown-reference")
        public static let tooLarge = Code(rawValue: "too-large")

        public var description: String { rawValue }
    }

    public let code: Code
    public let reason: String
    public let location: SourceLocation?
    public let field: String?

    public init(_ code: Code, _ reason: String, at location: SourceLocation? = nil, field: String? = nil) {
        self.code = code
        self.reason = reason
        self.location = location
        self.field = field
    }

    /// `file:line:column: field: reason`, the shape compilers use, so editors can jump to it.
    public var description: String {
        var text = ""
        if let location { text += "\(location): " }
        if let field, !field.isEmpty { text += "\(field): " }
        return text + reason
    }
}
