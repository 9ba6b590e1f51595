import GatehouseCore

/// A decision as a person reads it: the verdict, then each direction's tiers, policies and rules.
enum DecisionText {
    static func render(_ decision: Decision) -> String {
        var text = "\(decision.source) -> \(decision.destination)  \(decision.protocol)/\(decision.port)"
        if let sourcePort = decision.sourcePort { text += " (from port \(sourcePort))" }
        text += "\nverdict: \(decision.verdict.rawValue.uppercased())"
        if decision.stagedVerdict != decision.verdict {
            text += "  (with staged policies: \(decision.stagedVerdict.rawValue.uppercased()))"
        }
        text += "\n"
        for trace in [decision.egress, decision.ingress] {
            let side = trace.direction == .egress ? "egress from" : "ingress to"
            text += "\n\(side) \(trace.endpoint): \(trace.verdict.rawValue.uppercased()) - \(trace.enforced.outcome)\n"
            text += tiers(trace.enforced.tiers, indent: "  ")
            if let staged = trace.staged {
                text += "  staged policies in force: \(staged.verdict.rawValue.uppercased()) - \(staged.outcome)\n"
                text += tiers(staged.tiers, indent: "    ")
            }
        }
        return text
    }

    private static func tiers(_ tiers: [TierTrace], indent: String) -> String {
        var text = ""
        for tier in tiers {
            text += "\(indent)tier \(tier.tier):\n"
            for hit in tier.hits {
                let what: String
                if let rule = hit.ruleIndex, let action = hit.action {
                    what = "rule \(rule) matched: \(action)"
                } else {
                    what = "no rule matched"
                }
                let place = hit.source.map { "  (\($0))" } ?? ""
                text += "\(indent)  \(hit.policy): \(what)\(place)\n"
            }
            if let action = tier.endOfTier { text += "\(indent)  end of tier: \(action)\n" }
        }
        return text
    }
}
