import GatehouseCore
import GatehousePolicy

/// `GET /v1/policies`: the model-access policies in force, each rule with the configured models it
/// matches, for the console's policy view.
struct AccessPolicyJSON: Encodable {
    struct Rule: Encodable {
        let action: String
        let modelNames: [String]?
        let modelSelector: String?
        /// The configured models the rule matches.
        let matches: [String]
        let source: String?
    }

    struct Policy: Encodable {
        let name: String
        let tier: String
        let order: Double?
        let selector: String
        let rules: [Rule]
        let source: String?
    }

    let items: [Policy]

    init(_ runtime: GatewayRuntime) {
        let models = runtime.models
        items = runtime.configuration.access.policies.map { policy in
            Policy(
                name: policy.name,
                tier: policy.tier,
                order: policy.order,
                selector: policy.selector.description,
                rules: policy.rules.map { rule in
                    Rule(
                        action: rule.action.rawValue,
                        modelNames: rule.modelNames?.sorted(),
                        modelSelector: rule.modelSelector?.description,
                        matches: models.filter { rule.matches($0.subject) }.map(\.route.name),
                        source: rule.location?.fileAndLine
                    )
                },
                source: policy.location?.fileAndLine
            )
        }
    }
}
