import GatehouseCore

/// A rule flattened for the hot path: every reference is an index into the engine's tables.
struct RuleRecord: Sendable {
    let policy: Int32
    let index: Int32
    let action: RuleAction
    /// 0 for any family, else 4 or 6.
    let ipVersion: UInt8
    /// The rule's protocol and destination-port criteria as a set of port classes (index into the mask table).
    let classMask: Int32
    /// -1 when any endpoint matches; else an index into the peer tables.
    let sourcePeers: Int32
    let destinationPeers: Int32
    /// Source ports or named destination ports: checked against the full entities in `RuleDetail`.
    let slowPorts: Bool
}

/// What the fast path leaves to a slower check: the entities with their ports and external peers.
struct RuleDetail: Sendable {
    let protocols: ProtocolMatch
    let source: EntityMatch
    let destination: EntityMatch
    /// For a destination matched by Calico `services`: the addresses and ports the Services send to.
    let serviceTargets: Set<ServiceTarget>?
}

/// A peer for addresses outside the cluster: selector criteria reduce to the nets of matching network sets.
struct CompiledPeer: Sendable {
    /// nil: no selector criterion; otherwise the address must be in one of these nets.
    let memberNets: [CIDR]?
    /// The address must not be in any of these (nets of network sets matching `notSelector`).
    let notMemberNets: [CIDR]
    let nets: [CIDR]?
    let notNets: [CIDR]

    func matches(_ address: IPAddress) -> Bool {
        if let memberNets, !memberNets.contains(where: { $0.contains(address) }) { return false }
        if notMemberNets.contains(where: { $0.contains(address) }) { return false }
        if let nets, !nets.contains(where: { $0.contains(address) }) { return false }
        return !notNets.contains { $0.contains(address) }
    }
}
