/// A policy as a trace names it: kind (staged kinds have their own), namespace (for namespaced kinds), name, tier.
public struct PolicyReference: Sendable, Hashable, Codable, CustomStringConvertible {
    public let kind: String
    public let namespace: String?
    public let name: String
    public let tier: String

    public init(kind: String, namespace: String?, name: String, tier: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.tier = tier
    }

    /// `Kind ns/name` or `Kind name`.
    public var description: String {
        guard let namespace else { return "\(kind) \(name)" }
        return "\(kind) \(namespace)/\(name)"
    }
}

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

/// The policies one tier consulted, in order, and the end-of-tier action when the tier decided by default.
public struct TierTrace: Sendable, Hashable, Codable {
    public let tier: String
    public var hits: [PolicyHit]
    public var endOfTier: RuleAction?

    public init(tier: String, hits: [PolicyHit] = [], endOfTier: RuleAction? = nil) {
        self.tier = tier
        self.hits = hits
        self.endOfTier = endOfTier
    }
}

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
        case .unenforced: return "\(verdict): outside the cluster, no policy enforced"
        case .loopback: return "\(verdict): a pod's traffic to itself is never blocked"
        }
    }
}

/// One evaluation of one direction: the verdict, what decided it, and every tier consulted.
public struct Evaluation: Sendable, Hashable, Codable {
    public let outcome: Outcome
    public let tiers: [TierTrace]

    public init(outcome: Outcome, tiers: [TierTrace]) {
        self.outcome = outcome
        self.tiers = tiers
    }

    public var verdict: Verdict { outcome.verdict }
}

/// The trace of one direction of a flow (the source's egress or the destination's ingress), with what
/// the staged policies would have decided when any of them applies.
public struct DirectionTrace: Sendable, Hashable, Codable {
    public let direction: TrafficDirection
    public let endpoint: String
    public let enforced: Evaluation
    /// The evaluation with staged policies in force; nil when no staged policy applies.
    public let staged: Evaluation?

    public init(direction: TrafficDirection, endpoint: String, enforced: Evaluation, staged: Evaluation?) {
        self.direction = direction
        self.endpoint = endpoint
        self.enforced = enforced
        self.staged = staged
    }

    public var verdict: Verdict { enforced.verdict }
}

/// A verdict for one flow with the trace of both directions: allowed only if both allow.
public struct Decision: Sendable, Hashable, Codable {
    public let source: String
    public let destination: String
    public let `protocol`: String
    public let port: UInt16
    public let sourcePort: UInt16?
    public let verdict: Verdict
    /// What the verdict would be with staged policies in force.
    public let stagedVerdict: Verdict
    public let egress: DirectionTrace
    public let ingress: DirectionTrace

    public init(
        source: String,
        destination: String,
        protocol: IPProtocol,
        port: UInt16,
        sourcePort: UInt16?,
        egress: DirectionTrace,
        ingress: DirectionTrace
    ) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`.description
        self.port = port
        self.sourcePort = sourcePort
        self.egress = egress
        self.ingress = ingress
        self.verdict = egress.verdict == .allow && ingress.verdict == .allow ? .allow : .deny
        let stagedEgress = egress.staged?.verdict ?? egress.verdict
        let stagedIngress = ingress.staged?.verdict ?? ingress.verdict
        self.stagedVerdict = stagedEgress == .allow && stagedIngress == .allow ? .allow : .deny
    }
}
