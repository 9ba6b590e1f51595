/// One evaluation of one direction: the verdict, what decided it, and every tier consulted.
public struct Evaluation: Sendable, Hashable, Codable {
    public let outcome: Outcome
    public let tiers: [TierTrace]

    public init(outcome: Outcome, tiers: [TierTrace]) {
        self.outcome = outcome
        self.tiers = tiers
    }

    public var verdict: Verdict { outcome.verdict }
}
