/// Every policy of every supported kind, with the tiers they live in.
public struct PolicySet: Sendable {
    public private(set) var policies: [Policy] = []
    /// Tiers declared with a Tier resource; the built-in ones are added when compiling.
    public private(set) var declaredTiers: [Tier] = []

    public init(policies: [Policy] = [], tiers: [Tier] = []) {
        self.policies = policies
        self.declaredTiers = tiers
    }

    public mutating func add(_ policy: Policy) { policies.append(policy) }

    public mutating func add(_ tier: Tier) { declaredTiers.append(tier) }

    /// Declared tiers plus the built-in ones they do not redefine, in evaluation order.
    public var tiers: [Tier] {
        var byName: [String: Tier] = [:]
        for tier in Tier.builtIn { byName[tier.name] = tier }
        for tier in declaredTiers { byName[tier.name] = tier }
        return byName.values.sorted(by: Tier.precedes)
    }

    /// This set with `change` applied as `kubectl apply` would: a policy or tier of the same kind, namespace
    /// and name is replaced, any other is added.
    public func applying(_ change: PolicySet) -> PolicySet {
        func key(_ policy: Policy) -> String { "\(policy.kind.rawValue)/\(policy.namespace ?? "")/\(policy.name)" }
        let replaced = Set(change.policies.map(key))
        let replacedTiers = Set(change.declaredTiers.map(\.name))
        return PolicySet(
            policies: policies.filter { !replaced.contains(key($0)) } + change.policies,
            tiers: declaredTiers.filter { !replacedTiers.contains($0.name) } + change.declaredTiers
        )
    }
}
