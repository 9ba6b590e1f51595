/// One end of a flow record (a peer, in NetworkPolicy's word): what kind of thing it is, its
/// namespace and its name. Labels travel beside it in `FlowRecord` (they are intersected when flows are
/// aggregated, not part of the key).
public struct FlowPeer: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// A pod (Calico's WorkloadEndpoint); with aggregation by prefix, a set of pods sharing a name prefix.
        case workload
        /// A node's interface (Calico's HostEndpoint).
        case host
        /// A NetworkSet or GlobalNetworkSet.
        case networkSet = "networkset"
        /// Anything else: `pub` or `pvt` in Calico's terms, an address for Hubble's `world`.
        case network
        /// A caller of the gateway: an API key, a JWT subject or a client certificate.
        case identity
        /// A model behind the gateway.
        case model
    }

    public let kind: Kind
    public let namespace: String?
    public let name: String

    public init(kind: Kind, namespace: String? = nil, name: String) {
        self.kind = kind
        self.namespace = namespace.flatMap { $0.isEmpty ? nil : $0 }
        self.name = name
    }

    /// `namespace/name`, or the name alone.
    public var description: String {
        guard let namespace else { return name }
        return "\(namespace)/\(name)"
    }
}
