/// What decided one direction of a flow.
public struct Outcome: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, Codable {
        /// A rule with action Allow or Deny matched.
        case rule
        /// A tier applied to the endpoint, no rule decided, and the tier's default action was Deny.
        case endOfTier
        /// No policy applied for this direction (Kubernetes "not isolated"; Calico profiles allow).
        case noPolicy
        /// Policies passed the flow through every tier that applied and none denied it.
        case passedThrough
        /// No policy allowed a gateway request; the gateway fails closed.
        case noAllow
        /// The endpoint is outside the cluster: no policy is enforced there.
        case unenforced
        /// A pod talking to itself; policies cannot block it.
        case loopback
    }

    public let reason: Reason
    public let verdict: Verdict
    public let policy: PolicyReference?
    public let ruleIndex: Int?
    public let tier: String?

    public init(
        reason: Reason,
        verdict: Verdict,
        policy: PolicyReference? = nil,
        ruleIndex: Int? = nil,
        tier: String? = nil
    ) {
        self.reason = reason
        self.verdict = verdict
        self.policy = policy
        self.ruleIndex = ruleIndex
        self.tier = tier
    }

    public var description: String {
        switch reason {
        case .rule:
            let rule = ruleIndex.map { " rule \($0)" } ?? ""
            return "\(verdict) by \(policy.map(\.description) ?? "a policy")\(rule) in tier \(tier ?? "?")"
        case .endOfTier: return "\(verdict) at the end of tier \(tier ?? "?") (no rule matched)"
        case .noPolicy: return "\(verdict): no policy applies (not isolated)"
        case .passedThrough: return "\(verdict): every applicable tier passed the flow on"
        case .noAllow: return "\(verdict): no policy allows it"
        case .unenforced: return "\(verdict): outside the cluster, no policy enforced"
        case .loopback: return "\(verdict): a pod's traffic to itself is never blocked"
        }
    }
}
