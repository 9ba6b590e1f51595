/// The outcome for one flow: allowed or denied.
public enum Verdict: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case allow
    case deny

    public var description: String { rawValue }
}
