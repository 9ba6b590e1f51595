/// Anything traffic comes from or goes to: a pod, a network outside the cluster, and later an API
/// identity or a model. Policies select endpoints by their labels.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// A port a pod declares (`spec.containers[].ports[]`), which named ports in rules resolve against.
    public struct NamedPort: Sendable, Hashable {
        public let name: String
        public let port: UInt16
        public let `protocol`: IPProtocol

        public init(name: String, port: UInt16, protocol: IPProtocol) {
            self.name = name
            self.port = port
            self.protocol = `protocol`
        }
    }

    public let namespace: String?
    public let name: String
    public let labels: Labels
    public let addresses: [IPAddress]
    public let ports: [NamedPort]
    public let serviceAccount: String?
    /// A pod in the node's network namespace: policies do not select it (its traffic is the node's).
    public let hostNetwork: Bool

    public init(
        namespace: String?,
        name: String,
        labels: Labels = [:],
        addresses: [IPAddress] = [],
        ports: [NamedPort] = [],
        serviceAccount: String? = nil,
        hostNetwork: Bool = false
    ) {
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.addresses = addresses
        self.ports = ports
        self.serviceAccount = serviceAccount
        self.hostNetwork = hostNetwork
    }

    /// `namespace/name`, or the name alone for an endpoint outside any namespace.
    public var description: String {
        guard let namespace else { return name }
        return "\(namespace)/\(name)"
    }

    /// The port number a named port resolves to on this endpoint for `protocol`, if it declares one.
    public func resolve(namedPort: String, protocol: IPProtocol) -> UInt16? {
        ports.first { $0.name == namedPort && $0.protocol == `protocol` }?.port
    }
}
