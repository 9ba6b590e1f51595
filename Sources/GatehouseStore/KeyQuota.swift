import GatehouseCore

/// Limits carried by one API key (`gatehouse keys create --rpm ... --budget-usd ...`); they apply to
/// the key's identity alone, on top of any quota configuration selects for it.
public struct KeyQuota: Sendable, Hashable, Codable {
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var maxConcurrent: Int?
    public var budget: Cost?
    public var budgetPeriod: BudgetPeriod?

    public init(
        requestsPerMinute: Int? = nil,
        tokensPerMinute: Int? = nil,
        maxConcurrent: Int? = nil,
        budget: Cost? = nil,
        budgetPeriod: BudgetPeriod? = nil
    ) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxConcurrent = maxConcurrent
        self.budget = budget
        self.budgetPeriod = budgetPeriod
    }

    public var isEmpty: Bool { self == KeyQuota() }
}
