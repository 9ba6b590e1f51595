/// What makes two flow records the same flow for aggregation, as Goldmane's key: both ends, the port
/// or route, the action and its reason, the reporter and the whole policy trace. Labels and counters
/// are not part of it.
public struct FlowKey: Sendable, Hashable {
    public let source: FlowPeer
    public let destination: FlowPeer
    public let `protocol`: String
    public let port: UInt16?
    public let route: String?
    public let action: FlowAction
    public let reason: String?
    public let reporter: FlowReporter
    public let policies: FlowTrace

    /// Hashes the fields that tell flows apart most often, not the whole trace: aggregation hashes one
    /// key per record, and equality (all fields) settles the rare collision.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(source.name)
        hasher.combine(destination.name)
        hasher.combine(port)
        hasher.combine(route)
        hasher.combine(action)
        hasher.combine(policies.enforced.count)
    }
}
