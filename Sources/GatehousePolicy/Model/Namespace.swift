import GatehouseCore

/// A Kubernetes namespace and its labels.
public struct Namespace: Sendable, Hashable {
    public let name: String
    /// The labels, always including `kubernetes.io/metadata.name`, which the API server sets.
    public let labels: Labels

    public init(name: String, labels: Labels = [:]) {
        self.name = name
        var labels = labels
        labels[Namespace.nameLabel] = name
        self.labels = labels
    }

    public static let nameLabel = "kubernetes.io/metadata.name"

    /// The labels Calico's `namespaceSelector` sees: the namespace's own plus `projectcalico.org/name`.
    public var calicoLabels: Labels {
        var labels = labels
        labels["projectcalico.org/name"] = name
        return labels
    }
}
