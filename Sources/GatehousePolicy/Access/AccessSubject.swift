import GatehouseCore

/// A caller or a model as access policies see it: a name and labels. The name is also available to
/// selectors as the label `gatehouse.io/name`, as Calico offers `projectcalico.org/name`.
public struct AccessSubject: Sendable, Hashable {
    public static let nameLabel = "gatehouse.io/name"

    public let name: String
    public let labels: Labels

    public init(name: String, labels: Labels) {
        self.name = name
        var labels = labels
        labels[Self.nameLabel] = name
        self.labels = labels
    }
}
