import GatehouseCore

/// A Calico tier: policies are consulted tier by tier, by ascending `order`.
public struct Tier: Sendable, Hashable {
    public let name: String
    /// nil means "last", after every ordered tier.
    public let order: Double?
    /// What happens when a policy of the tier applied and no rule decided: `deny` or `pass`.
    public let defaultAction: RuleAction
    public let location: SourceLocation?

    public init(name: String, order: Double?, defaultAction: RuleAction, location: SourceLocation? = nil) {
        self.name = name
        self.order = order
        self.defaultAction = defaultAction
        self.location = location
    }

    /// ClusterNetworkPolicy tier Admin and AdminNetworkPolicy (Calico `libcalico-go/lib/names/policy.go`).
    public static let admin = Tier(name: "kube-admin", order: 1_000, defaultAction: .pass)
    /// Calico policies without a tier and every Kubernetes NetworkPolicy.
    public static let `default` = Tier(name: "default", order: 1_000_000, defaultAction: .deny)
    /// ClusterNetworkPolicy tier Baseline and BaselineAdminNetworkPolicy.
    public static let baseline = Tier(name: "kube-baseline", order: 10_000_000, defaultAction: .pass)

    public static let builtIn: [Tier] = [.admin, .default, .baseline]

    /// Same name, order and default action; where it was read from does not count (for diffs).
    public static func == (lhs: Tier, rhs: Tier) -> Bool {
        lhs.name == rhs.name && lhs.order == rhs.order && lhs.defaultAction == rhs.defaultAction
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(order)
        hasher.combine(defaultAction)
    }

    static func precedes(_ lhs: Tier, _ rhs: Tier) -> Bool {
        CalicoOrder(lhs.order, lhs.name) < CalicoOrder(rhs.order, rhs.name)
    }
}
