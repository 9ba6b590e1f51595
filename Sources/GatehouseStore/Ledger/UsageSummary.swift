import GatehouseCore

/// What one identity spent on one model over a time range, summed from the audit trail.
public struct UsageSummary: Sendable, Hashable, Codable {
    public var identity: String
    public var model: String
    public var requests: Int
    public var denied: Int
    public var tokensIn: Int
    public var tokensOut: Int
    /// Requests whose tokens the gateway counted itself.
    public var estimated: Int
    public var cost: Cost

    public init(
        identity: String,
        model: String,
        requests: Int,
        denied: Int,
        tokensIn: Int,
        tokensOut: Int,
        estimated: Int,
        cost: Cost
    ) {
        self.identity = identity
        self.model = model
        self.requests = requests
        self.denied = denied
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.estimated = estimated
        self.cost = cost
    }
}
