import Foundation

/// One flow record: a decided connection or request (or many of them with the same key, aggregated
/// over `start..<end`), with both ends, the action and the policy trace that decided it, and counters.
/// The gateway writes one per request; imported Hubble and Calico flow logs become flows too.
public struct FlowRecord: Sendable, Hashable, Codable {
    public var start: Date
    public var end: Date
    public var source: FlowPeer
    public var sourceLabels: [String: String]
    public var destination: FlowPeer
    public var destinationLabels: [String: String]
    /// `TCP`, `UDP`, `SCTP`, `ICMP`, or `HTTP` for gateway requests.
    public var `protocol`: String
    public var port: UInt16?
    /// The gateway route (`/v1/chat/completions`); nil for network flows.
    public var route: String?
    public var action: FlowAction
    /// Why a flow was denied: the gateway's error code (`forbidden`, `budget_exceeded`…) or the
    /// policy outcome (`end-of-tier`, `rule`); nil for allowed flows.
    public var reason: String?
    public var reporter: FlowReporter
    public var policies: FlowTrace
    public var counters: FlowCounters

    public init(
        start: Date,
        end: Date? = nil,
        source: FlowPeer,
        sourceLabels: [String: String] = [:],
        destination: FlowPeer,
        destinationLabels: [String: String] = [:],
        protocol: String,
        port: UInt16? = nil,
        route: String? = nil,
        action: FlowAction,
        reason: String? = nil,
        reporter: FlowReporter,
        policies: FlowTrace = FlowTrace(),
        counters: FlowCounters = FlowCounters()
    ) {
        self.start = start
        self.end = end ?? start
        self.source = source
        self.sourceLabels = sourceLabels
        self.destination = destination
        self.destinationLabels = destinationLabels
        self.protocol = `protocol`
        self.port = port
        self.route = route
        self.action = action
        self.reason = reason
        self.reporter = reporter
        self.policies = policies
        self.counters = counters
    }

    /// Whether `other` has this flow's aggregation key, as Goldmane's: both ends, protocol, port,
    /// route, action, reason, reporter and the whole policy trace (labels, times and counters are not
    /// part of it).
    public func hasSameKey(as other: FlowRecord) -> Bool {
        source == other.source && destination == other.destination && port == other.port
            && route == other.route && action == other.action && reason == other.reason
            && reporter == other.reporter && `protocol` == other.protocol && policies == other.policies
    }

    /// A hash of the key's fields that tell flows apart most often (not the whole trace): aggregation
    /// hashes one key per record, and `hasSameKey(as:)` settles the rare collision.
    public var keyHash: Int {
        var hasher = Hasher()
        hasher.combine(source.name)
        hasher.combine(destination.name)
        hasher.combine(port)
        hasher.combine(route)
        hasher.combine(action)
        hasher.combine(policies.enforced.count)
        return hasher.finalize()
    }

    /// Folds `other` (same key) into this flow: counters summed, labels intersected; the times stay
    /// (an aggregated flow's are its bucket's).
    public mutating func absorb(_ other: FlowRecord) {
        counters.add(other.counters)
        if sourceLabels != other.sourceLabels { sourceLabels = Self.intersection(sourceLabels, other.sourceLabels) }
        if destinationLabels != other.destinationLabels {
            destinationLabels = Self.intersection(destinationLabels, other.destinationLabels)
        }
    }

    private static func intersection(_ a: [String: String], _ b: [String: String]) -> [String: String] {
        a.filter { b[$0.key] == $0.value }
    }
}
