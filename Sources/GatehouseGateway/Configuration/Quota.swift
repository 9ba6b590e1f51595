import GatehouseCore

/// Limits for the identities a selector picks: rates, concurrency, request caps and a budget.
/// `per: group` shares one allowance among all of them; `per: identity` gives each its own.
public struct Quota: Sendable, Hashable {
    public enum Scope: String, Sendable, Hashable {
        case group
        case identity
    }

    /// Which tokens count against `tokensPerMinute`.
    public enum CountedTokens: String, Sendable, Hashable {
        case input
        case output
        case total
    }

    public var name: String
    public var selector: Selector
    public var per: Scope = .group
    public var requestsPerMinute: Int?
    public var tokensPerMinute: Int?
    public var countedTokens: CountedTokens = .total
    public var maxConcurrent: Int?
    public var caps = RequestCaps()
    public var budget: Cost?
    public var budgetPeriod: BudgetPeriod = .month

    public init(name: String, selector: Selector) {
        self.name = name
        self.selector = selector
    }
}
