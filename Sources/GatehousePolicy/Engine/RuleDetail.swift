/// What the fast path leaves to a slower check: the entities with their ports and external peers.
struct RuleDetail: Sendable {
    let protocols: ProtocolMatch
    let source: EntityMatch
    let destination: EntityMatch
    /// For a destination matched by Calico `services`: the addresses and ports the Services send to.
    let serviceTargets: Set<ServiceTarget>?
}
