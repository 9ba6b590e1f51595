extension Evaluation {
    /// The trace on one line, for logs: `security: banned-callers#0 Deny; default: small-only end Deny`.
    public var compactTrace: String {
        guard !tiers.isEmpty else { return "no tier applied" }
        return tiers.map { tier in
            let hits = tier.hits.map { hit in
                var text = hit.policy.name
                if let rule = hit.ruleIndex { text += "#\(rule)" }
                if let action = hit.action { text += " \(action)" }
                return text
            }
            var text = "\(tier.tier): " + hits.joined(separator: ", ")
            if let end = tier.endOfTier { text += " end \(end)" }
            return text
        }.joined(separator: "; ")
    }
}
