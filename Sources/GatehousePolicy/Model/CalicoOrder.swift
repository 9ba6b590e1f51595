/// Calico's order, for tiers and for policies within a tier: ascending `order`, a missing order after
/// every number, then by name. The one place this rule is written.
struct CalicoOrder: Comparable {
    let order: Double?
    let name: String

    init(_ order: Double?, _ name: String) {
        self.order = order
        self.name = name
    }

    static func < (lhs: CalicoOrder, rhs: CalicoOrder) -> Bool {
        switch (lhs.order, rhs.order) {
        case (let left?, let right?) where left != right: return left < right
        case (.some, .none): return true
        case (.none, .some): return false
        default: return lhs.name < rhs.name
        }
    }
}
