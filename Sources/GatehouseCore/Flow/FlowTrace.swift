/// The policies a flow went through: those in force, and (when a staged policy applies) those it
/// would go through with staged policies in force, as Goldmane's enforced and pending lists.
public struct FlowTrace: Sendable, Hashable, Codable {
    public var enforced: [FlowPolicyHit]
    public var pending: [FlowPolicyHit]?

    public init(enforced: [FlowPolicyHit] = [], pending: [FlowPolicyHit]? = nil) {
        self.enforced = enforced
        self.pending = pending
    }

    /// The trace of a gateway decision (one direction, no staged policies).
    public init(_ evaluation: Evaluation) {
        self.init(enforced: Self.hits([(nil, evaluation)]))
    }

    /// The trace of a network flow: the source's egress then the destination's ingress.
    public init(_ decision: Decision) {
        let enforced = Self.hits([
            (decision.egress.direction, decision.egress.enforced),
            (decision.ingress.direction, decision.ingress.enforced),
        ])
        guard decision.egress.staged != nil || decision.ingress.staged != nil else {
            self.init(enforced: enforced)
            return
        }
        let pending = Self.hits([
            (decision.egress.direction, decision.egress.staged ?? decision.egress.enforced),
            (decision.ingress.direction, decision.ingress.staged ?? decision.ingress.enforced),
        ])
        self.init(enforced: enforced, pending: pending)
    }

    /// The rules that matched, and each end-of-tier decision, in the order they were met.
    private static func hits(_ evaluations: [(TrafficDirection?, Evaluation)]) -> [FlowPolicyHit] {
        var hits: [FlowPolicyHit] = []
        for (direction, evaluation) in evaluations {
            for tier in evaluation.tiers {
                for hit in tier.hits {
                    guard let action = hit.action else { continue }
                    hits.append(
                        FlowPolicyHit(
                            policy: hit.policy,
                            direction: direction,
                            ruleIndex: hit.ruleIndex,
                            action: action,
                            index: hits.count
                        )
                    )
                }
                if let end = tier.endOfTier, let trigger = tier.hits.first {
                    hits.append(
                        FlowPolicyHit(
                            policy: trigger.policy,
                            direction: direction,
                            ruleIndex: nil,
                            action: end,
                            endOfTier: true,
                            index: hits.count
                        )
                    )
                }
            }
        }
        return hits
    }

    /// Whether any hit, enforced or pending, names the policy `name` (or `namespace/name`, or `tier.name`).
    public func mentions(policy name: String) -> Bool {
        (enforced + (pending ?? [])).contains { hit in
            hit.policy.name == name || "\(hit.policy.namespace ?? "")/\(hit.policy.name)" == name
                || "\(hit.policy.tier).\(hit.policy.name)" == name
        }
    }
}
