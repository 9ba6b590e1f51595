import GatehouseCore

/// Decoders for model-access tiers and policies, as written in `gatehouse.yaml`'s `access` section.
extension Field {
    /// `{name, order, defaultAction}`; the default action is Deny unless Pass is asked for.
    package func accessTier() throws(ResourceError) -> Tier {
        let object = try object(known: ["name", "order", "defaultAction"])
        let name = try object.required("name").name()
        let order = try object["order"]?.number()
        var action = RuleAction.deny
        if let field = object["defaultAction"] {
            let text = try field.string()
            guard let parsed = RuleAction(rawValue: text), parsed == .deny || parsed == .pass else {
                throw field.error(.invalidValue, "defaultAction must be Deny or Pass, not \"\(text)\"")
            }
            action = parsed
        }
        return Tier(name: name, order: order, defaultAction: action, location: location)
    }

    /// `{name, tier, order, selector, rules: [{action, models: {names, selector}}]}`.
    package func accessPolicy() throws(ResourceError) -> AccessPolicy {
        let object = try object(known: ["name", "tier", "order", "selector", "rules"])
        var rules: [AccessRule] = []
        for item in try object["rules"]?.list() ?? [] {
            let rule = try item.object(known: ["action", "models"])
            let actionField = try rule.required("action")
            let text = try actionField.string()
            guard let action = RuleAction(rawValue: text) else {
                throw actionField.error(.invalidValue, "unknown action \"\(text)\" (want Allow, Deny, Pass or Log)")
            }
            let models = try rule["models"]?.object(known: ["names", "selector"])
            let names = try models?["names"]?.stringList()
            if let names, names.isEmpty, let field = models?["names"] {
                throw field.error(.invalidValue, "an empty list matches no model; leave names out to match any")
            }
            rules.append(
                AccessRule(
                    action: action,
                    modelNames: names.map(Set.init),
                    modelSelector: try models?["selector"]?.calicoSelector(),
                    location: item.location
                )
            )
        }
        return AccessPolicy(
            name: try object.required("name").name(),
            tier: try object["tier"]?.name() ?? Tier.default.name,
            order: try object["order"]?.number(),
            selector: try object["selector"]?.calicoSelector() ?? .all,
            rules: rules,
            location: location
        )
    }
}
