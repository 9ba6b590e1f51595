import GatehouseCore

/// One rule of a policy, normalized from any supported kind.
///
/// Every criterion is ANDed: protocol, IP version, the source entity and the destination entity.
/// For an ingress rule the destination is the policy's own endpoint; for egress, the source is.
public struct PolicyRule: Sendable, Hashable {
    /// Position in the policy's ingress or egress list, as the user wrote it.
    public let index: Int
    public let action: RuleAction
    public let protocols: ProtocolMatch
    /// 4 or 6 to restrict to one family.
    public let ipVersion: IPAddress.Family?
    public let source: EntityMatch
    public let destination: EntityMatch
    /// The rule carried an L7 match (Calico `http`) that is judged at connection level only.
    public let hasApplicationLayerMatch: Bool
    public let location: SourceLocation?

    public init(
        index: Int,
        action: RuleAction,
        protocols: ProtocolMatch = .any,
        ipVersion: IPAddress.Family? = nil,
        source: EntityMatch = .any,
        destination: EntityMatch = .any,
        hasApplicationLayerMatch: Bool = false,
        location: SourceLocation? = nil
    ) {
        self.index = index
        self.action = action
        self.protocols = protocols
        self.ipVersion = ipVersion
        self.source = source
        self.destination = destination
        self.hasApplicationLayerMatch = hasApplicationLayerMatch
        self.location = location
    }

    /// A rule on its far end only, as Kubernetes and ClusterNetworkPolicy write them: the peers are the
    /// source of an ingress rule or the destination of an egress rule; the ports are destination ports.
    public init(
        index: Int,
        action: RuleAction,
        direction: TrafficDirection,
        peers: [Peer],
        ports: [PortMatch],
        location: SourceLocation?
    ) {
        if direction == .ingress {
            self.init(
                index: index,
                action: action,
                source: EntityMatch(peers: peers),
                destination: EntityMatch(ports: ports),
                location: location
            )
        } else {
            self.init(
                index: index,
                action: action,
                destination: EntityMatch(peers: peers, ports: ports),
                location: location
            )
        }
    }

    public static func == (lhs: PolicyRule, rhs: PolicyRule) -> Bool {
        (lhs.index, lhs.action, lhs.protocols, lhs.ipVersion, lhs.source, lhs.destination)
            == (rhs.index, rhs.action, rhs.protocols, rhs.ipVersion, rhs.source, rhs.destination)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(index)
        hasher.combine(action)
        hasher.combine(source)
        hasher.combine(destination)
    }
}

/// Calico `protocol` / `notProtocol`.
public struct ProtocolMatch: Sendable, Hashable {
    public let only: IPProtocol?
    public let except: IPProtocol?

    public init(only: IPProtocol? = nil, except: IPProtocol? = nil) {
        self.only = only
        self.except = except
    }

    public static let any = ProtocolMatch()

    public func matches(_ proto: IPProtocol) -> Bool {
        (only == nil || only == proto) && except != proto
    }
}

/// What a rule requires of one end of a flow: any of `peers` (none listed = anything), and a port
/// in `ports` (none listed = any port) but not in `notPorts`.
public struct EntityMatch: Sendable, Hashable {
    public var peers: [Peer]
    public var ports: [PortMatch]
    public var notPorts: [PortMatch]

    public init(peers: [Peer] = [], ports: [PortMatch] = [], notPorts: [PortMatch] = []) {
        self.peers = peers
        self.ports = ports
        self.notPorts = notPorts
    }

    public static let any = EntityMatch()

    public var constrainsPeer: Bool { !peers.isEmpty }
}

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

/// A port criterion: a protocol (nil: the rule's), and any port, a range, or a named port.
public struct PortMatch: Sendable, Hashable, CustomStringConvertible {
    public enum Ports: Sendable, Hashable {
        case any
        case range(PortRange)
        /// Resolved on the endpoint at that end of the flow (`containerPorts[].name`).
        case named(String)
    }

    public let `protocol`: IPProtocol?
    public let ports: Ports

    public init(protocol: IPProtocol?, ports: Ports) {
        self.protocol = `protocol`
        self.ports = ports
    }

    public var description: String {
        let proto = self.protocol.map { "\($0)/" } ?? ""
        switch ports {
        case .any: return proto.isEmpty ? "any" : "\(proto)*"
        case .range(let range): return "\(proto)\(range)"
        case .named(let name): return "\(proto)\(name)"
        }
    }
}
