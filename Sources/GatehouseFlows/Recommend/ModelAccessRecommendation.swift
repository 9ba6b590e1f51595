import GatehouseCore
import GatehouseStore

/// Model-access policies from the gateway's audit trail: per identity group (the value of one identity
/// label, or each identity by name), one policy allowing the models the group was allowed to use, as
/// the `access:` section of gatehouse.yaml. Groups that were only ever denied get nothing, so they
/// stay denied.
public struct ModelAccessRecommendation: Sendable {
    /// Per group: the selector that picks it, and the models it used.
    public private(set) var groups: [String: (selector: String, models: Set<String>)] = [:]

    /// Groups identities by the label `groupBy`, or by name (`gatehouse.io/name`) when nil.
    public init(records: [AuditEntry], groupBy: String?) {
        for record in records where record.decision == "allow" {
            guard let model = record.model, let identity = record.identity else { continue }
            let key = groupBy ?? "gatehouse.io/name"
            let value: String?
            if let groupBy {
                value = record.identityLabels?[groupBy]
            } else {
                value = identity
            }
            guard let value else { continue }
            let name = "\(groupBy ?? "identity")-\(value)"
            let selector = "\(key) == '\(value)'"
            groups[name, default: (selector, [])].models.insert(model)
        }
    }

    public var yaml: String {
        var text = "access:\n  policies:\n"
        for name in groups.keys.sorted() {
            guard let group = groups[name] else { continue }
            let models = group.models.sorted().map(JSONText.quoted).joined(separator: ", ")
            text += "    - name: \(JSONText.quoted(PolicyRecommendation.dnsLabel(name) + "-models"))\n"
            text += "      selector: \(JSONText.quoted(group.selector))\n"
            text += "      rules: [{action: Allow, models: {names: [\(models)]}}]\n"
        }
        return text
    }
}
