extension Evaluation {
    /// The trace on one line, for logs: `security: banned-callers#0 Deny; default: small-only end Deny`.
    public var compactTrace: String {
        guard !tiers.isEmpty else { return "no tier applied" }
        // Written into one string (it is made for every request's audit record).
        var text = ""
        text.reserveCapacity(64 * tiers.count)
        for (index, tier) in tiers.enumerated() {
            if index > 0 { text += "; " }
            text += tier.tier
            text += ": "
            for (number, hit) in tier.hits.enumerated() {
                if number > 0 { text += ", " }
                text += hit.policy.name
                if let rule = hit.ruleIndex {
                    text += "#"
                    text += String(rule)
                }
                if let action = hit.action {
                    text += " "
                    text += action.rawValue
                }
            }
            if let end = tier.endOfTier {
                text += " end "
                text += end.rawValue
            }
        }
        return text
    }
}
