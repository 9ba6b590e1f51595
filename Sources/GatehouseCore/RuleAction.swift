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

/// The outcome for one flow: allowed or denied.
public enum Verdict: String, Sendable, Hashable, Codable, CustomStringConvertible {
    case allow
    case deny

    public var description: String { rawValue }
}

/// Which side of a flow a policy rule list guards: a pod's incoming or outgoing connections.
public enum TrafficDirection: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case ingress = "Ingress"
    case egress = "Egress"

    public var description: String { rawValue }
}
