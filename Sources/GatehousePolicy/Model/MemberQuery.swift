import GatehouseCore

/// Which endpoints a peer selects by identity: a label selector within a namespace scope, optionally
/// narrowed to service accounts. Compiled once per policy set into a bit set over the cluster's pods.
public struct MemberQuery: Sendable, Hashable {
    /// Where selected endpoints may live.
    public enum Scope: Sendable, Hashable {
        /// Pods of one namespace (a Kubernetes `podSelector` alone; a Calico rule in a namespaced policy).
        case namespace(String)
        /// Pods of the namespaces whose labels match.
        case namespaces(Selector)
        /// Every namespace, and for Calico the global network sets.
        case cluster
        /// Only non-namespaced resources: Calico's `namespaceSelector: global()`.
        case global
    }

    /// Which label view the selectors see.
    public enum Dialect: Sendable, Hashable {
        /// Kubernetes and ClusterNetworkPolicy: the objects' own labels; pods only.
        case kubernetes
        /// Calico: pods carry `projectcalico.org/namespace`, `.../orchestrator`, `.../serviceaccount`;
        /// namespaces carry `projectcalico.org/name`; network sets are endpoints too.
        case calico
    }

    public var scope: Scope
    public var selector: Selector
    public var dialect: Dialect
    /// Calico `serviceAccounts.names`: the pod's service account must be one of these.
    public var serviceAccountNames: [String]?
    /// Calico `serviceAccounts.selector` or `serviceAccountSelector`: the service account's labels must match.
    public var serviceAccountSelector: Selector?

    public init(
        scope: Scope,
        selector: Selector,
        dialect: Dialect,
        serviceAccountNames: [String]? = nil,
        serviceAccountSelector: Selector? = nil
    ) {
        self.scope = scope
        self.selector = selector
        self.dialect = dialect
        self.serviceAccountNames = serviceAccountNames
        self.serviceAccountSelector = serviceAccountSelector
    }

    /// Whether network sets can be members: Calico selectors without service-account criteria.
    var includesNetworkSets: Bool {
        dialect == .calico && serviceAccountNames == nil && serviceAccountSelector == nil
    }
}
