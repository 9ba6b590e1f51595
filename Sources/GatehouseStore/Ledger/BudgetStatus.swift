import GatehouseCore

/// A budget's current window as the ledger holds it.
public struct BudgetStatus: Sendable, Hashable, Codable {
    public var scope: String
    public var period: BudgetPeriod
    public var windowStart: Int64
    public var windowEnd: Int64
    public var limit: Cost
    public var spent: Cost
    public var reserved: Cost

    public init(
        scope: String,
        period: BudgetPeriod,
        windowStart: Int64,
        windowEnd: Int64,
        limit: Cost,
        spent: Cost,
        reserved: Cost
    ) {
        self.scope = scope
        self.period = period
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.limit = limit
        self.spent = spent
        self.reserved = reserved
    }

    public var remaining: Cost { limit - spent - reserved }
}
