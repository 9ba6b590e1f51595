import GatehouseCore
import GatehousePolicy

/// Allowed network flows folded per workload: who each workload accepted connections from and whom it
/// connected to, on which ports. A workload is the set of pods its labels select in its namespace
/// (labels Kubernetes adds per pod or per revision left out), as inspektor-gadget's policy advisor
/// groups them.
public struct ObservedTraffic: Sendable {
    /// Labels that differ between the pods of one workload, never selected on.
    public static let ignoredLabelKeys: Set<String> = [
        "pod-template-hash", "controller-revision-hash", "pod-template-generation",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index", "controller-uid", "batch.kubernetes.io/controller-uid",
        "topology.kubernetes.io/region", "topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
    ]

    public struct Workload: Sendable, Hashable, Comparable {
        public let namespace: String
        public let labels: [String: String]
        /// Label keys that other pods of the namespace carry on top of all of this workload's labels:
        /// a selector must require their absence, or it would select those pods too.
        public let excludedKeys: [String]
        /// A name for its policy: its `app`-like label, else the first pod's name.
        public let name: String

        public static func < (lhs: Workload, rhs: Workload) -> Bool {
            (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
        }
    }

    public enum Peer: Sendable, Hashable, Comparable {
        case workload(Workload)
        case address(IPAddress)

        public static func < (lhs: Peer, rhs: Peer) -> Bool {
            switch (lhs, rhs) {
            case (.workload(let a), .workload(let b)): a < b
            case (.workload, .address): true
            case (.address, .workload): false
            case (.address(let a), .address(let b)): a.description < b.description
            }
        }
    }

    public struct Port: Sendable, Hashable, Comparable {
        public let `protocol`: IPProtocol
        public let number: UInt16

        public static func < (lhs: Port, rhs: Port) -> Bool {
            (lhs.protocol.number, lhs.number) < (rhs.protocol.number, rhs.number)
        }
    }

    /// Per workload: the peers it accepted connections from, and the ports.
    public private(set) var ingress: [Workload: [Peer: Set<Port>]] = [:]
    /// Per workload: the peers it connected to, and the ports.
    public private(set) var egress: [Workload: [Peer: Set<Port>]] = [:]
    /// Allowed flows that could not be placed (an end not in the cluster state, no port, a pod without
    /// labels to select it by, a Calico name prefix whose pods differ in their labels).
    public private(set) var unplaced: [FlowRecord] = []

    /// Folds the allowed flows among `flows`, keeping policies to workloads in `namespaces` (all when empty).
    public init(flows: [FlowRecord], cluster: Cluster, namespaces: Set<String> = []) {
        for flow in flows where flow.action == .allow {
            guard let port = flow.port, let ipProtocol = IPProtocol(name: flow.protocol),
                let source = Self.peer(flow.source, in: cluster),
                let destination = Self.peer(flow.destination, in: cluster)
            else {
                if flow.source.kind != .identity { unplaced.append(flow) }
                continue
            }
            let observed = Port(protocol: ipProtocol, number: port)
            if case .workload(let workload) = destination, namespaces.isEmpty || namespaces.contains(workload.namespace)
            {
                ingress[workload, default: [:]][source, default: []].insert(observed)
            }
            if case .workload(let workload) = source, namespaces.isEmpty || namespaces.contains(workload.namespace) {
                egress[workload, default: [:]][destination, default: []].insert(observed)
            }
        }
    }

    /// Every workload a policy is recommended for, in order.
    public var workloads: [Workload] {
        Set(ingress.keys).union(egress.keys).sorted()
    }

    private static func peer(_ peer: FlowPeer, in cluster: Cluster) -> Peer? {
        switch peer.kind {
        case .workload:
            guard let namespace = peer.namespace else { return nil }
            let pod: Endpoint?
            if peer.name.hasSuffix("*") {
                // A Calico set of pods by name prefix: taken only when all its pods share their labels.
                let prefix = peer.name.dropLast()
                let matching = cluster.pods.filter { $0.namespace == namespace && $0.name.hasPrefix(prefix) }
                guard Set(matching.map(\.labels)).count == 1 else { return nil }
                pod = matching.first
            } else {
                pod = cluster.pod(named: "\(namespace)/\(peer.name)").map { cluster.pods[$0] }
            }
            guard let pod else { return nil }
            let labels = pod.labels.values.filter { !ignoredLabelKeys.contains($0.key) }
            guard !labels.isEmpty else { return nil }
            let name =
                ["app.kubernetes.io/name", "app", "k8s-app", "name"].lazy.compactMap { labels[$0] }.first ?? pod.name
            // Pods whose labels hold all of these and more are other workloads: their extra keys are
            // excluded, so the selector picks this workload only.
            var excluded: Set<String> = []
            for other in cluster.pods where other.namespace == namespace {
                let otherLabels = other.labels.values.filter { !ignoredLabelKeys.contains($0.key) }
                guard otherLabels != labels, labels.allSatisfy({ otherLabels[$0.key] == $0.value }) else { continue }
                excluded.formUnion(otherLabels.keys.filter { labels[$0] == nil })
            }
            return .workload(
                Workload(namespace: namespace, labels: labels, excludedKeys: excluded.sorted(), name: name)
            )
        case .network, .host, .networkSet:
            guard let address = IPAddress(peer.name) else { return nil }
            if let pod = cluster.pod(owning: address) {
                let endpoint = cluster.pods[pod]
                return Self.peer(
                    FlowPeer(kind: .workload, namespace: endpoint.namespace, name: endpoint.name),
                    in: cluster
                )
            }
            return .address(address)
        case .identity, .model:
            return nil
        }
    }
}
