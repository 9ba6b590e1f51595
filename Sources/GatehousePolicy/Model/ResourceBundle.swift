/// Everything read from a set of files: the cluster state, the policy set, and the warnings.
public struct ResourceBundle: Sendable {
    public var cluster: Cluster
    public var policySet: PolicySet
    /// Unknown kinds, unknown fields and other things read but not understood.
    public var warnings: [ResourceError]

    public init(cluster: Cluster = Cluster(), policySet: PolicySet = PolicySet(), warnings: [ResourceError] = []) {
        self.cluster = cluster
        self.policySet = policySet
        self.warnings = warnings
    }
}
