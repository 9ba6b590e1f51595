import GatehouseCore

/// Member and peer resolution for the linter, reusing the engine's cluster.
struct MemberIndexView {
    let engine: PolicyEngine
    private var index: MemberIndex

    init(engine: PolicyEngine) {
        self.engine = engine
        self.index = MemberIndex(cluster: engine.cluster)
    }

    mutating func isEmpty(_ query: MemberQuery) -> Bool {
        let members = index.members(query)
        return members.pods.isEmpty && members.nets.isEmpty
    }

    /// The pods an entity's peers match, per connection family.
    mutating func pods(_ entity: EntityMatch) -> PeerBits {
        var pods = PeerBits(BitSet(count: engine.cluster.pods.count))
        for peer in entity.peers { pods.formUnion(index.peerBits(peer)) }
        return pods
    }
}
