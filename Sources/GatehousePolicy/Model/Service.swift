import GatehouseCore

/// A Kubernetes Service, for Calico rules that match `services`: its selector and ports decide its
/// endpoints when no EndpointSlice is given.
public struct Service: Sendable, Hashable {
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

/// A Calico rule's `services: {name, namespace}`.
public struct ServiceReference: Sendable, Hashable, CustomStringConvertible {
    public let namespace: String
    public let name: String

    public var description: String { "\(namespace)/\(name)" }
}

/// One address and port a Service sends traffic to (after DNAT).
struct ServiceTarget: Hashable, Sendable {
    let address: IPAddress
    /// nil: every port of the protocol.
    let port: UInt16?
    let `protocol`: IPProtocol
}
