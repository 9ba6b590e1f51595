import GatehouseCore

/// Model-access tiers and policies as configured, and the same in the engine's form.
///
/// Callers and models are labelled endpoints: each access policy is an egress policy of the callers its
/// selector matches, with one rule per access rule towards the models it names or selects. Tiers,
/// order, Allow/Deny/Pass/Log and end-of-tier actions are therefore Calico's, decided by `PolicyEngine`.
public struct AccessPolicySet: Sendable {
    /// The namespaces the engine places callers and models in; a rule's models are looked for only among
    /// the models.
    static let callerNamespace = "callers"
    static let modelNamespace = "models"

    /// Every policy, in evaluation order: by tier, then by order and name.
    public let policies: [AccessPolicy]
    /// The engine's form of `policies`, in the same order.
    let policySet: PolicySet

    /// `policies` placed in `tiers` (the built-in `default` tier, order 1,000,000 with an end-of-tier
    /// deny, is always there). A policy naming a tier that does not exist is a programming error: the
    /// configuration decoder checks references first.
    public init(tiers: [Tier] = [], policies: [AccessPolicy]) {
        var compiled = PolicySet(tiers: tiers)
        for policy in policies { compiled.add(Self.compile(policy)) }
        let position = Dictionary(uniqueKeysWithValues: compiled.tiers.enumerated().map { ($1.name, $0) })
        let ordered = zip(policies, compiled.policies).sorted { lhs, rhs in
            let left = position[lhs.0.tier] ?? Int.max
            let right = position[rhs.0.tier] ?? Int.max
            return left != right ? left < right : Policy.precedes(lhs.1, rhs.1)
        }
        self.policies = ordered.map(\.0)
        self.policySet = PolicySet(policies: ordered.map(\.1), tiers: tiers)
    }

    private static func compile(_ policy: AccessPolicy) -> Policy {
        let rules = policy.rules.enumerated().map { index, rule in
            var terms: [Selector] = []
            if let names = rule.modelNames { terms.append(.in(AccessSubject.nameLabel, names.sorted())) }
            if let selector = rule.modelSelector { terms.append(selector) }
            let models = MemberQuery(
                scope: .namespace(modelNamespace),
                selector: terms.count == 1 ? terms[0] : .and(terms),
                dialect: .kubernetes
            )
            return PolicyRule(
                index: index,
                action: rule.action,
                destination: EntityMatch(peers: [Peer(members: models)]),
                location: rule.location
            )
        }
        return Policy(
            kind: .modelAccessPolicy,
            namespace: nil,
            name: policy.name,
            tier: policy.tier,
            order: policy.order,
            subject: MemberQuery(scope: .namespace(callerNamespace), selector: policy.selector, dialect: .kubernetes),
            types: [.egress],
            ingress: [],
            egress: rules,
            location: policy.location
        )
    }
}
