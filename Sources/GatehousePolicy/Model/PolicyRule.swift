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
