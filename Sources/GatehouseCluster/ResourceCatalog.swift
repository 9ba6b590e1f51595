/// The kinds the policy engine reads from a cluster, each with the group versions that serve it, most
/// preferred first.
///
/// Calico's kinds come from its own API (`projectcalico.org/v3`, served by Calico's API server or, from
/// Calico 3.32, by native CRDs) when the cluster serves it, else from the `crd.projectcalico.org/v1` custom
/// resources that back it: the two carry the same specs, and reading both would count each policy twice.
public struct ResourceCatalog: Sendable {
    public struct Entry: Sendable {
        public let kind: String
        public let plural: String
        public let namespaced: Bool
        /// (group, version) pairs, most preferred first.
        public let versions: [(group: String, version: String)]
    }

    public let entries: [Entry]

    public init(entries: [Entry]) { self.entries = entries }

    /// Everything the engine understands: cluster state, Kubernetes, Calico and network-policy-api policies.
    public static let policyEngine = ResourceCatalog(
        entries: [
            Entry(kind: "Namespace", plural: "namespaces", namespaced: false, versions: [("", "v1")]),
            Entry(kind: "Pod", plural: "pods", namespaced: true, versions: [("", "v1")]),
            Entry(kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true, versions: [("", "v1")]),
            Entry(kind: "Service", plural: "services", namespaced: true, versions: [("", "v1")]),
            Entry(
                kind: "EndpointSlice",
                plural: "endpointslices",
                namespaced: true,
                versions: [("discovery.k8s.io", "v1"), ("discovery.k8s.io", "v1beta1")]
            ),
            Entry(
                kind: "NetworkPolicy",
                plural: "networkpolicies",
                namespaced: true,
                versions: [("networking.k8s.io", "v1")]
            ),
            calico("Tier", "tiers", namespaced: false),
            calico("NetworkPolicy", "networkpolicies", namespaced: true),
            calico("GlobalNetworkPolicy", "globalnetworkpolicies", namespaced: false),
            calico("StagedNetworkPolicy", "stagednetworkpolicies", namespaced: true),
            calico("StagedGlobalNetworkPolicy", "stagedglobalnetworkpolicies", namespaced: false),
            calico("StagedKubernetesNetworkPolicy", "stagedkubernetesnetworkpolicies", namespaced: true),
            calico("NetworkSet", "networksets", namespaced: true),
            calico("GlobalNetworkSet", "globalnetworksets", namespaced: false),
            Entry(
                kind: "ClusterNetworkPolicy",
                plural: "clusternetworkpolicies",
                namespaced: false,
                versions: [("policy.networking.k8s.io", "v1beta1"), ("policy.networking.k8s.io", "v1alpha2")]
            ),
            Entry(
                kind: "AdminNetworkPolicy",
                plural: "adminnetworkpolicies",
                namespaced: false,
                versions: [("policy.networking.k8s.io", "v1alpha1")]
            ),
            Entry(
                kind: "BaselineAdminNetworkPolicy",
                plural: "baselineadminnetworkpolicies",
                namespaced: false,
                versions: [("policy.networking.k8s.io", "v1alpha1")]
            ),
        ]
    )

    private static func calico(_ kind: String, _ plural: String, namespaced: Bool) -> Entry {
        Entry(
            kind: kind,
            plural: plural,
            namespaced: namespaced,
            versions: [("projectcalico.org", "v3"), ("crd.projectcalico.org", "v1")]
        )
    }
}
