import GatehouseCore

/// What an AI namespace should allow, and nothing more: the workloads, who may reach whom, the outside
/// addresses the workloads may call, and DNS. `gatehouse blueprint` turns it into the policies that make
/// the namespaces "RSVP only" (`BlueprintPolicies`) and proves them (`BlueprintCheck`).
public struct Blueprint: Sendable {
    public enum Role: String, Sendable {
        case gateway
        case model
        case app
        /// Who may call the gateway; it may live outside the AI namespaces.
        case client
    }

    /// A set of pods: by namespace and labels (empty labels: every pod of the namespace, for clients only).
    public struct Workload: Sendable, Hashable {
        public let name: String
        public let role: Role
        public let namespace: String
        public let labels: [String: String]
        /// The TCP ports it accepts connections on (none for a client).
        public let ports: [UInt16]
    }

    /// A connection a workload may open to another, on the destination's ports.
    public struct Connection: Sendable, Hashable {
        public let from: String
        public let to: String
    }

    /// Connections a workload may open out of the cluster.
    public struct Egress: Sendable {
        public let from: String
        /// Provider host names (`api.openai.com`): only flavors that can express them use them.
        public let fqdns: [String]
        public let cidrs: [CIDR]
        public let ports: [UInt16]
    }

    public let name: String
    /// The namespaces made RSVP only: everything not declared is denied in and out of them.
    public let namespaces: [String]
    /// The gateway first, then the models, the apps and the clients.
    public let workloads: [Workload]
    /// Every declared connection: clients to the gateway, the gateway to the models, and the apps' flows.
    public let connections: [Connection]
    public let egress: [Egress]
    /// The cluster DNS: its namespace and labels (`kube-system`, `k8s-app: kube-dns`).
    public let dns: (namespace: String, labels: [String: String])

    public func workload(named name: String) -> Workload? { workloads.first { $0.name == name } }

    /// Workloads in the AI namespaces: the ones whose every connection the policies decide.
    public var governed: [Workload] { workloads.filter { namespaces.contains($0.namespace) } }
}
