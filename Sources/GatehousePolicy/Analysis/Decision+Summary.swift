import GatehouseCore

extension Decision {
    /// One line saying what decided: the denying direction for a deny, the deciding rule for an allow.
    public var summary: String {
        let directions = [egress, ingress]
        if verdict == .deny, let denying = directions.first(where: { $0.verdict == .deny }) {
            return "\(denying.direction.rawValue.lowercased()) of \(denying.endpoint): \(denying.enforced.outcome)"
        }
        let deciding = directions.first { $0.enforced.outcome.reason == .rule } ?? ingress
        return "\(deciding.direction.rawValue.lowercased()) of \(deciding.endpoint): \(deciding.enforced.outcome)"
    }
}
