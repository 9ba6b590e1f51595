import GatehouseCore

/// One alternative for the far end of a rule; every present criterion must hold.
public struct Peer: Sendable, Hashable {
    /// The endpoint must be selected by this query (Calico: its IP must be in the selector's IP set).
    public var members: MemberQuery?
    /// The endpoint must not be selected by this query (Calico `notSelector`).
    public var notMembers: MemberQuery?
    /// The address must be in one of these (nil: no constraint; empty: nothing matches).
    public var nets: [CIDR]?
    /// The address must be in none of these (Kubernetes `except`, Calico `notNets`).
    public var notNets: [CIDR]

    /// Calico `services`: the endpoint must be one the Service sends to (and, as a destination, on its ports).
    public var service: ServiceReference?

    public init(
        members: MemberQuery? = nil,
        notMembers: MemberQuery? = nil,
        nets: [CIDR]? = nil,
        notNets: [CIDR] = [],
        service: ServiceReference? = nil
    ) {
        self.members = members
        self.notMembers = notMembers
        self.nets = nets
        self.notNets = notNets
        self.service = service
    }

    /// A peer that matches nothing (ClusterNetworkPolicy `nodes` and `domainNames` with no such endpoints known).
    public static let nothing = Peer(nets: [])
}
