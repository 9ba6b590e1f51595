import GatehouseCore

/// A `discovery.k8s.io/v1` EndpointSlice: the addresses and (target) ports behind a Service.
public struct EndpointSlice: Sendable, Hashable {
    public struct Port: Sendable, Hashable {
        /// nil means every port.
        public let port: UInt16?
        public let `protocol`: IPProtocol
    }

    public let namespace: String
    public let name: String
    public let serviceName: String
    public let addresses: [IPAddress]
    public let ports: [Port]
}
