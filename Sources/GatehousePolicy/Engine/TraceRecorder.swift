import GatehouseCore

/// Receives what an evaluation consults. The matrix uses `SkipTrace` (every call compiles away);
/// `explain` uses `TraceBuilder`.
protocol TraceRecorder {
    mutating func enterTier(_ tier: Tier)
    mutating func record(_ policy: Policy, ruleIndex: Int?, action: RuleAction?)
    mutating func endOfTier(_ action: RuleAction)
}

/// Records nothing: the hot path.
struct SkipTrace: TraceRecorder {
    @inline(__always) mutating func enterTier(_ tier: Tier) {}
    @inline(__always) mutating func record(_ policy: Policy, ruleIndex: Int?, action: RuleAction?) {}
    @inline(__always) mutating func endOfTier(_ action: RuleAction) {}
}

/// Builds the per-tier trace shown by `explain` and kept in flow records.
struct TraceBuilder: TraceRecorder {
    var tiers: [TierTrace] = []

    mutating func enterTier(_ tier: Tier) { tiers.append(TierTrace(tier: tier.name)) }

    mutating func record(_ policy: Policy, ruleIndex: Int?, action: RuleAction?) {
        tiers[tiers.count - 1].hits.append(PolicyHit(policy: policy.reference, ruleIndex: ruleIndex, action: action))
    }

    mutating func endOfTier(_ action: RuleAction) { tiers[tiers.count - 1].endOfTier = action }
}
