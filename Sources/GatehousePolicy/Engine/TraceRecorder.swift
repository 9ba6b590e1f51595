import GatehouseCore

/// Receives what an evaluation consults, by index into the engine's tiers and policies. The matrix uses
/// `SkipTrace` (every call compiles away); `explain` uses `TraceBuilder`.
protocol TraceRecorder {
    /// Whether anything is recorded; when not, evaluation may skip work whose only effect is the trace.
    var records: Bool { get }
    mutating func enterTier(_ tier: Int)
    /// A policy consulted, with the engine's rule record that matched (nil: none of its rules matched).
    mutating func record(_ policy: Int, rule: Int?)
    mutating func endOfTier(_ action: RuleAction)
}
