/// What was done with a flow: Calico's actions (a flow whose policies all passed it is `pass`).
public enum FlowAction: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case allow
    case deny
    case pass

    public init(_ verdict: Verdict) {
        self = verdict == .allow ? .allow : .deny
    }

    public var description: String { rawValue }
}
