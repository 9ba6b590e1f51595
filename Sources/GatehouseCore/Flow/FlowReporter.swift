/// Where a flow was seen: at the end that opened it, at the end that accepted it, or at the gateway.
public enum FlowReporter: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case source = "src"
    case destination = "dst"
    case gateway

    public var description: String { rawValue }
}
