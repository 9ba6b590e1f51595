import GatehouseCore

/// Records nothing: the hot path.
struct SkipTrace: TraceRecorder {
    var records: Bool { false }
    @inline(__always) mutating func enterTier(_ tier: Int) {}
    @inline(__always) mutating func record(_ policy: Int, rule: Int?) {}
    @inline(__always) mutating func endOfTier(_ action: RuleAction) {}
}
