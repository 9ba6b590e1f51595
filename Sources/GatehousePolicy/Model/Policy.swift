import GatehouseCore

/// A policy of any supported kind, normalized into Calico's model: a tier, an order, the endpoints it
/// applies to, and ordered ingress and egress rules.
public struct Policy: Sendable {
    public let kind: PolicyKind
    public let namespace: String?
    public let name: String
    public let tier: String
    /// Lower first; nil means last.
    public let order: Double?
    /// Breaks ties of equal order, as Calico does by name (`knp.default.NAME` for Kubernetes policies).
    public let sortName: String
    /// Set for the staged kinds: what the policy proposes.
    public let stagedAction: StagedAction?
    /// The endpoints the policy applies to.
    public let subject: MemberQuery
    public let types: Set<TrafficDirection>
    public let ingress: [PolicyRule]
    public let egress: [PolicyRule]
    public let location: SourceLocation?

    public init(
        kind: PolicyKind,
        namespace: String?,
        name: String,
        tier: String,
        order: Double?,
        sortName: String? = nil,
        stagedAction: StagedAction? = nil,
        subject: MemberQuery,
        types: Set<TrafficDirection>,
        ingress: [PolicyRule],
        egress: [PolicyRule],
        location: SourceLocation? = nil
    ) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.tier = tier
        self.order = order
        self.sortName = sortName ?? name
        self.stagedAction = kind.isStaged ? (stagedAction ?? .set) : nil
        self.subject = subject
        self.types = types
        self.ingress = ingress
        self.egress = egress
        self.location = location
    }

    public var reference: PolicyReference {
        PolicyReference(kind: kind.rawValue, namespace: namespace, name: name, tier: tier)
    }

    public var isStaged: Bool { kind.isStaged }

    public func rules(_ direction: TrafficDirection) -> [PolicyRule] {
        direction == .ingress ? ingress : egress
    }

    /// Calico's order within a tier; policies alike in order and name (of different namespaces or kinds)
    /// keep one fixed order.
    static func precedes(_ lhs: Policy, _ rhs: Policy) -> Bool {
        let left = CalicoOrder(lhs.order, lhs.sortName)
        let right = CalicoOrder(rhs.order, rhs.sortName)
        if left != right { return left < right }
        return (lhs.namespace ?? "", lhs.kind.rawValue) < (rhs.namespace ?? "", rhs.kind.rawValue)
    }
}

extension Policy: Equatable {
    /// Same kind, name, place and rules; where it was read from does not count.
    public static func == (lhs: Policy, rhs: Policy) -> Bool {
        lhs.kind == rhs.kind && lhs.namespace == rhs.namespace && lhs.name == rhs.name && lhs.tier == rhs.tier
            && lhs.order == rhs.order && lhs.sortName == rhs.sortName && lhs.stagedAction == rhs.stagedAction
            && lhs.subject == rhs.subject && lhs.types == rhs.types && lhs.ingress == rhs.ingress
            && lhs.egress == rhs.egress
    }
}
