import GatehouseCore

/// Builds the per-tier trace that `explain` shows.
struct TraceBuilder: TraceRecorder {
    let engine: PolicyEngine
    var tiers: [TierTrace] = []
    var records: Bool { true }

    init(engine: PolicyEngine) { self.engine = engine }

    mutating func enterTier(_ tier: Int) { tiers.append(TierTrace(tier: engine.tiers[tier].name)) }

    mutating func record(_ policy: Int, rule: Int?) {
        // A policy whose Log rules matched is in the trace already; that none of its rules decided is
        // what the next entry (or the tier's end) shows.
        if rule == nil, tiers[tiers.count - 1].hits.last?.policy == engine.references[policy] { return }
        let record = rule.map { engine.rules[$0] }
        tiers[tiers.count - 1].hits.append(
            PolicyHit(
                policy: engine.references[policy],
                ruleIndex: record.map { Int($0.index) },
                action: record?.action,
                source: rule.map { engine.ruleSources[$0] } ?? engine.policySources[policy]
            )
        )
    }

    mutating func endOfTier(_ action: RuleAction) { tiers[tiers.count - 1].endOfTier = action }
}
