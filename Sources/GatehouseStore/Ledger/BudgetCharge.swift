import GatehouseCore

/// One budget a request is charged against: a scope (`identity:<name>`, `group:<quota>` ...), its
/// period and its limit as configuration sets it now.
public struct BudgetCharge: Sendable, Hashable {
    public var scope: String
    public var period: BudgetPeriod
    public var limit: Cost

    public init(scope: String, period: BudgetPeriod, limit: Cost) {
        self.scope = scope
        self.period = period
        self.limit = limit
    }
}
