/// What a rule does when it matches, in Calico's terms (Kubernetes and ClusterNetworkPolicy map onto them).
public enum RuleAction: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Accept for this direction; later tiers are not consulted.
    case allow = "Allow"
    /// Drop.
    case deny = "Deny"
    /// Skip the rest of this tier and continue with the next one.
    case pass = "Pass"
    /// Record the match and continue with the next rule.
    case log = "Log"

    public var description: String { rawValue }
}
