import GatehouseCore

/// A Calico NetworkSet (namespaced) or GlobalNetworkSet: labelled CIDRs that rule selectors can match.
public struct NetworkSet: Sendable, Hashable {
    public let namespace: String?
    public let name: String
    public let labels: Labels
    public let nets: [CIDR]
    public let location: SourceLocation?

    public init(namespace: String?, name: String, labels: Labels, nets: [CIDR], location: SourceLocation? = nil) {
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.nets = nets
        self.location = location
    }
}
