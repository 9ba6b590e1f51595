import GatehouseCore
import GatehouseStore

/// Model-access policies from the gateway's audit trail: per identity group (the value of one identity
/// label, or each identity by name), one policy allowing the models the group was allowed to use, as
/// the `access:` section of gatehouse.yaml. Groups that were only ever denied get nothing, so they
/// stay denied.
public struct ModelAccessRecommendation: Sendable {
    /// Per group, by the selector that picks it: a name for its policy, and the models it used.
    public private(set) var groups: [String: (name: String, models: Set<String>)] = [:]
    /// Group values no selector can name safely (holding both kinds of quote, or control characters):
    /// left out, so they stay denied.
    public private(set) var skipped: Set<String> = []

    /// Groups identities by the label `groupBy`, or by name (`gatehouse.io/name`) when nil.
    public init(records: [AuditEntry], groupBy: String?) {
        for record in records where record.decision == .allow {
            guard let model = record.model, let identity = record.identity else { continue }
            let key = groupBy ?? "gatehouse.io/name"
            let value: String?
            if let groupBy {
                value = record.identityLabels?[groupBy]
            } else {
                value = identity
            }
            guard let value else { continue }
            // A selector literal in whichever quotes the value does not hold; never built from both.
            let literal: String
            if value.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true }) {
                skipped.insert(value)
                continue
            } else if !value.contains("'") {
                literal = "'\(value)'"
            } else if !value.contains("\"") {
                literal = "\"\(value)\""
            } else {
                skipped.insert(value)
                continue
            }
            let selector = "\(key) == \(literal)"
            groups[selector, default: ("\(groupBy ?? "identity")-\(value)", [])].models.insert(model)
        }
    }

    /// The `access:` section; policy names are made unique (two groups may reduce to one DNS label).
    public var yaml: String {
        var text = "access:\n  policies:\n"
        var used: Set<String> = []
        for selector in groups.keys.sorted() {
            guard let group = groups[selector] else { continue }
            let base = PolicyRecommendation.dnsLabel(group.name) + "-models"
            var name = base
            var suffix = 2
            while !used.insert(name).inserted {
                name = "\(base)-\(suffix)"
                suffix += 1
            }
            let models = group.models.sorted().map(JSONText.quoted).joined(separator: ", ")
            text += "    - name: \(JSONText.quoted(name))\n"
            text += "      selector: \(JSONText.quoted(selector))\n"
            text += "      rules: [{action: Allow, models: {names: [\(models)]}}]\n"
        }
        return text
    }
}
