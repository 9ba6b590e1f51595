import GatehouseCore

/// A model-access policy: which callers it applies to (a Calico selector over identity labels), where
/// it sits (tier and order) and its rules, evaluated in order, first match wins.
public struct AccessPolicy: Sendable, Hashable {
    public let name: String
    public let tier: String
    /// Lower first; nil after every ordered policy, as in Calico.
    public let order: Double?
    public let selector: Selector
    public let rules: [AccessRule]
    public let location: SourceLocation?

    public init(
        name: String,
        tier: String = Tier.default.name,
        order: Double?,
        selector: Selector,
        rules: [AccessRule],
        location: SourceLocation? = nil
    ) {
        self.name = name
        self.tier = tier
        self.order = order
        self.selector = selector
        self.rules = rules
        self.location = location
    }
}
