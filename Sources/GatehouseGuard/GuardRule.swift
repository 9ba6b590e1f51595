/// What produced a finding: a built-in detector, a named custom pattern or a named keyword list.
public enum GuardRule: Sendable, Hashable, CustomStringConvertible {
    case detector(GuardDetector)
    case pattern(String)
    case keywords(String)

    /// The name in redaction markers and audit records: the detector's raw value or the custom rule's name.
    public var name: String {
        switch self {
        case .detector(let detector): detector.rawValue
        case .pattern(let name), .keywords(let name): name
        }
    }

    public var description: String { name }
}
