/// One policy consulted for one direction: the rule that matched (by index in its ingress or egress
/// list) and its action, or neither when no rule of the policy matched.
public struct PolicyHit: Sendable, Hashable, Codable {
    public let policy: PolicyReference
    public let ruleIndex: Int?
    public let action: RuleAction?
    /// Where the matching rule (or, when none matched, the policy) was read: `file:line`.
    public let source: String?

    public init(policy: PolicyReference, ruleIndex: Int?, action: RuleAction?, source: String? = nil) {
        self.policy = policy
        self.ruleIndex = ruleIndex
        self.action = action
        self.source = source
    }
}
