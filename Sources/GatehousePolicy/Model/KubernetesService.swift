import GatehouseCore

/// A Kubernetes Service, for Calico rules that match `services`: its selector and ports decide its
/// endpoints when no EndpointSlice is given.
public struct KubernetesService: Sendable, Hashable {
    public struct Port: Sendable, Hashable {
        public let port: UInt16
        /// `targetPort`: a number, a container port name, or nil for the same number as `port`.
        public let targetNumber: UInt16?
        public let targetName: String?
        public let `protocol`: IPProtocol
    }

    public let namespace: String
    public let name: String
    /// nil for a Service without a selector (its endpoints come only from EndpointSlices).
    public let selector: [String: String]?
    public let ports: [Port]
}
