import GatehouseCore

/// Model-access policies, compiled into tier order: decides whether a caller may use a model.
///
/// The semantics are Calico's, with one difference that makes the gateway fail closed: tiers in
/// order, policies in order within a tier, rules in order within a policy; Allow and Deny end the
/// evaluation, Pass moves to the next tier, Log records and goes on; a tier in which policies applied
/// but no rule matched ends with its default action. When no tier decides, the answer is deny
/// (Calico's profiles would allow).
public struct AccessPolicySet: Sendable {
    private struct TierEntry: Sendable {
        let tier: Tier
        let policies: [AccessPolicy]
    }

    private let tiers: [TierEntry]

    /// Every policy, in evaluation order.
    public var policies: [AccessPolicy] { tiers.flatMap(\.policies) }

    /// `policies` placed in `tiers` (the built-in `default` tier, order 1,000,000 with an end-of-tier
    /// deny, is always there). A policy naming a tier that does not exist is a programming error: the
    /// configuration decoder checks references first.
    public init(tiers: [Tier] = [], policies: [AccessPolicy]) {
        var allTiers = tiers
        if !allTiers.contains(where: { $0.name == Tier.default.name }) { allTiers.append(.default) }
        let ordered = allTiers.sorted { Self.precedes($0.order, $0.name, $1.order, $1.name) }
        self.tiers = ordered.map { tier in
            TierEntry(
                tier: tier,
                policies: policies.filter { $0.tier == tier.name }
                    .sorted { Self.precedes($0.order, $0.name, $1.order, $1.name) }
            )
        }
    }

    /// The verdict for `caller` using `model`, with a trace of every tier and policy that applied.
    public func evaluate(caller: AccessSubject, model: AccessSubject) -> Evaluation {
        var traces: [TierTrace] = []
        for entry in tiers {
            let applying = entry.policies.filter { $0.selector.matches(caller.labels) }
            guard !applying.isEmpty else { continue }
            var trace = TierTrace(tier: entry.tier.name)
            var passed = false
            policies: for policy in applying {
                for (index, rule) in policy.rules.enumerated() where rule.matches(model) {
                    trace.hits.append(
                        PolicyHit(policy: policy.reference, ruleIndex: index, action: rule.action, source: rule.source)
                    )
                    switch rule.action {
                    case .log:
                        continue
                    case .pass:
                        passed = true
                        break policies
                    case .allow, .deny:
                        traces.append(trace)
                        let verdict: Verdict = rule.action == .allow ? .allow : .deny
                        let outcome = Outcome(
                            reason: .rule,
                            verdict: verdict,
                            policy: policy.reference,
                            ruleIndex: index,
                            tier: entry.tier.name
                        )
                        return Evaluation(outcome: outcome, tiers: traces)
                    }
                }
                if !trace.hits.contains(where: { $0.policy == policy.reference }) {
                    trace.hits.append(
                        PolicyHit(policy: policy.reference, ruleIndex: nil, action: nil, source: policy.source)
                    )
                }
            }
            if passed || entry.tier.defaultAction == .pass {
                if !passed { trace.endOfTier = .pass }
                traces.append(trace)
                continue
            }
            trace.endOfTier = .deny
            traces.append(trace)
            return Evaluation(
                outcome: Outcome(reason: .endOfTier, verdict: .deny, tier: entry.tier.name),
                tiers: traces
            )
        }
        return Evaluation(outcome: Outcome(reason: .noAllow, verdict: .deny), tiers: traces)
    }

    /// Calico's order: by order, a missing order after every number, then by name.
    private static func precedes(_ lhsOrder: Double?, _ lhsName: String, _ rhsOrder: Double?, _ rhsName: String) -> Bool
    {
        switch (lhsOrder, rhsOrder) {
        case (let lhs?, let rhs?) where lhs != rhs: return lhs < rhs
        case (.some, .none): return true
        case (.none, .some): return false
        default: return lhsName < rhsName
        }
    }
}
