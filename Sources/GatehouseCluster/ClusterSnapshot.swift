/// What one read of a cluster gave: each page of each list as the API server wrote it, and what was left out.
public struct ClusterSnapshot: Sendable {
    /// One page of a list (`PodList` JSON), named `k8s://CONTEXT/api/v1/pods` for error locations.
    public struct Page: Sendable {
        public let resource: APIResource
        public let text: String
        public let location: String
    }

    public var pages: [Page] = []
    /// Each resource's list resourceVersion: where a watch of it starts.
    public var resourceVersions: [APIResource: String] = [:]
    /// Kinds the cluster does not serve, skipped: one line each.
    public var notes: [String] = []

    public init() {}
}
