import GatehouseCore

/// A Kubernetes service account; Calico's `serviceAccountSelector` and `serviceAccounts.selector` match its labels.
public struct ServiceAccount: Sendable, Hashable {
    public let namespace: String
    public let name: String
    public let labels: Labels

    public init(namespace: String, name: String, labels: Labels) {
        self.namespace = namespace
        self.name = name
        self.labels = labels
    }
}
