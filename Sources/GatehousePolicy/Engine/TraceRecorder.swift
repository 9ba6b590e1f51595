import GatehouseCore

/// Receives what an evaluation consults, by index into the engine's tiers and policies. The matrix uses
/// `SkipTrace` (every call compiles away); `explain` uses `TraceBuilder`.
protocol TraceRecorder {
    /// Whether anything is recorded; when not, evaluation may skip work whose only effect is the trace.
    var records: Bool { get }
    mutating func enterTier(_ tier: Int)
    mutating func record(_ policy: Int, ruleIndex: Int?, action: RuleAction?)
    mutating func endOfTier(_ action: RuleAction)
}

/// Records nothing: the hot path.
struct SkipTrace: TraceRecorder {
    var records: Bool { false }
    @inline(__always) mutating func enterTier(_ tier: Int) {}
    @inline(__always) mutating func record(_ policy: Int, ruleIndex: Int?, action: RuleAction?) {}
    @inline(__always) mutating func endOfTier(_ action: RuleAction) {}
}

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
