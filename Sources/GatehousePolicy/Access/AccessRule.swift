import GatehouseCore

/// One rule of an access policy: an action for the models it matches.
public struct AccessRule: Sendable, Hashable {
    public let action: RuleAction
    /// Model names the rule matches (an alias counts as its model); nil: any name.
    public let modelNames: Set<String>?
    /// A selector over the model's labels; nil: any labels.
    public let modelSelector: Selector?
    public let location: SourceLocation?

    public init(action: RuleAction, modelNames: Set<String>?, modelSelector: Selector?, location: SourceLocation? = nil)
    {
        self.action = action
        self.modelNames = modelNames
        self.modelSelector = modelSelector
        self.location = location
    }

    /// Whether the rule applies to `model`: both the names and the selector, where given, must match.
    public func matches(_ model: AccessSubject) -> Bool {
        if let modelNames, !modelNames.contains(model.name) { return false }
        if let modelSelector, !modelSelector.matches(model.labels) { return false }
        return true
    }
}
