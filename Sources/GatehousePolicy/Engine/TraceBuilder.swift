import GatehouseCore

/// Builds the per-tier trace that `explain` shows.
struct TraceBuilder: TraceRecorder {
    let engine: PolicyEngine
    let direction: TrafficDirection
    var tiers: [TierTrace] = []
    var records: Bool { true }

    init(engine: PolicyEngine, direction: TrafficDirection) {
        self.engine = engine
        self.direction = direction
    }

    mutating func enterTier(_ tier: Int) { tiers.append(TierTrace(tier: engine.tiers[tier].name)) }

    mutating func record(_ policy: Int, ruleIndex: Int?, action: RuleAction?) {
        let consulted = engine.policies[policy]
        let rule = ruleIndex.flatMap { index in consulted.rules(direction).first { $0.index == index } }
        let location = rule?.location ?? consulted.location
        tiers[tiers.count - 1].hits.append(
            PolicyHit(
                policy: consulted.reference,
                ruleIndex: ruleIndex,
                action: action,
                source: location.map { "\($0.file):\($0.line)" }
            )
        )
    }

    mutating func endOfTier(_ action: RuleAction) { tiers[tiers.count - 1].endOfTier = action }
}
