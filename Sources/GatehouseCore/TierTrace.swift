/// The policies one tier consulted, in order, and the end-of-tier action when the tier decided by default.
public struct TierTrace: Sendable, Hashable, Codable {
    public let tier: String
    public var hits: [PolicyHit]
    public var endOfTier: RuleAction?

    public init(tier: String, hits: [PolicyHit] = [], endOfTier: RuleAction? = nil) {
        self.tier = tier
        self.hits = hits
        self.endOfTier = endOfTier
    }
}
