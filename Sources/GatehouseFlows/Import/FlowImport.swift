import Foundation
import GatehouseCore
import GatehousePolicy
import GatehouseStore

/// Imports flows batch by batch: each batch is evaluated (when a policy set is given), its records go
/// through one aggregator for the whole import, and buckets are stored once the log has moved five
/// minutes past them; the rest at `finish()`. Disagreements and proposed changes are counted, and the
/// first `rowLimit` of each kept for the report.
public final class FlowImport {
    public static let rowLimit = 1_000

    public let engine: PolicyEngine?
    public let proposed: PolicyEngine?
    private let store: Store?
    private let aggregator = FlowAggregator()
    private var latest = Date.distantPast

    public private(set) var evaluated = 0
    public private(set) var unmapped = 0
    public private(set) var disagreements: [FlowEvaluation.Outcome] = []
    public private(set) var disagreementCount = 0
    public private(set) var changes: [FlowEvaluation.Outcome] = []
    public private(set) var changeCount = 0
    public private(set) var stored = 0

    /// `store` nil: evaluate only (a dry run).
    public init(engine: PolicyEngine?, proposed: PolicyEngine?, store: Store?) {
        self.engine = engine
        self.proposed = proposed
        self.store = store
    }

    public func process(_ flows: [ObservedFlow]) throws(StoreError) {
        guard !flows.isEmpty else { return }
        let evaluation = FlowEvaluation(flows, engine: engine, proposed: proposed)
        let mapped = evaluation.outcomes.filter { $0.decision != nil }.count
        evaluated += mapped
        if engine != nil { unmapped += flows.count - mapped }
        let disagreeing = evaluation.disagreements
        disagreementCount += disagreeing.count
        disagreements += disagreeing.prefix(Self.rowLimit - disagreements.count)
        let changing = evaluation.changes
        changeCount += changing.count
        changes += changing.prefix(Self.rowLimit - changes.count)
        let records = evaluation.records
        latest = max(latest, records.map(\.start).max() ?? latest)
        aggregator.add(contentsOf: records)
        try write(aggregator.drain(before: latest.addingTimeInterval(-300)))
    }

    /// Stores what is left.
    public func finish() throws(StoreError) {
        try write(aggregator.drainAll())
    }

    private func write(_ flows: [FlowRecord]) throws(StoreError) {
        guard let store, !flows.isEmpty else { return }
        try store.insertFlows(flows)
        stored += flows.count
    }
}
