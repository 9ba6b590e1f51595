import GatehouseCore

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
