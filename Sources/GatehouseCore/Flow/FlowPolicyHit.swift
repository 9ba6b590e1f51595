/// One policy rule a flow went through, in Goldmane's shape: the policy, the rule's index and action,
/// and the order among all hits. For a tier that decided by default, `endOfTier` is set and `policy`
/// names the first policy of the tier that selected the endpoint (Goldmane's `trigger`).
public struct FlowPolicyHit: Sendable, Hashable, Codable, CustomStringConvertible {
    public let policy: PolicyReference
    /// The direction the rule belongs to; nil for gateway decisions, which have one.
    public let direction: TrafficDirection?
    public let ruleIndex: Int?
    public let action: RuleAction
    public let endOfTier: Bool
    /// The position of this hit among all hits of the trace.
    public let index: Int

    public init(
        policy: PolicyReference,
        direction: TrafficDirection?,
        ruleIndex: Int?,
        action: RuleAction,
        endOfTier: Bool = false,
        index: Int
    ) {
        self.policy = policy
        self.direction = direction
        self.ruleIndex = ruleIndex
        self.action = action
        self.endOfTier = endOfTier
        self.index = index
    }

    /// `tier|name#rule|action`, with `end of tier` for a default decision, as flow listings print it.
    public var description: String {
        let rule = endOfTier ? " (end of tier)" : ruleIndex.map { "#\($0)" } ?? ""
        let direction = self.direction.map { "\($0) " } ?? ""
        return "\(direction)\(policy.tier)|\(policy.namespace.map { "\($0)/" } ?? "")\(policy.name)\(rule)|\(action)"
    }
}
