import Foundation
import GatehouseCore

/// A flow as an outside flow log reports it (Hubble or Calico), before it is mapped onto the cluster
/// state and evaluated: who, to whom, what, and what was done.
public struct ObservedFlow: Sendable, Hashable {
    /// One end: what the log says of it. `namePrefix` is set when the log names a set of pods by a
    /// prefix (Calico's `frontend-7d9f8-*`).
    public struct Peer: Sendable, Hashable {
        public var kind: FlowPeer.Kind = .workload
        public var namespace: String?
        public var name: String?
        public var namePrefix: String?
        public var address: IPAddress?
        public var labels: [String: String] = [:]

        public init() {}

        /// How flow records name it: the pod, the set's prefix, or the address.
        public var peer: FlowPeer {
            FlowPeer(
                kind: kind,
                namespace: namespace,
                name: name ?? namePrefix.map { $0 + "*" } ?? address?.description ?? "unknown"
            )
        }
    }

    public enum Format: String, Sendable, Hashable, CaseIterable {
        case hubble
        case calico
    }

    public var format: Format
    public var start: Date
    public var end: Date
    public var source = Peer()
    public var destination = Peer()
    public var `protocol`: IPProtocol
    public var port: UInt16?
    /// What the dataplane did; nil when the log does not say.
    public var action: FlowAction?
    /// Why it was dropped, in the log's words (`POLICY_DENIED`).
    public var dropReason: String?
    public var reporter: FlowReporter
    /// The trace the log carries (Calico's), kept when the flow is not evaluated here.
    public var policies = FlowTrace()
    public var counters = FlowCounters()

    public init(format: Format, start: Date, protocol: IPProtocol, reporter: FlowReporter) {
        self.format = format
        self.start = start
        self.end = start
        self.protocol = `protocol`
        self.reporter = reporter
    }
}
