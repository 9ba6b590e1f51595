import GatehouseCore

/// The cluster state policies are judged against: namespaces, pods, service accounts, network sets and
/// the addresses outside the cluster a user wants in matrices.
public struct Cluster: Sendable {
    public private(set) var namespaces: [String: Namespace] = [:]
    /// Pods sorted by namespace and name; their position is their index in compiled bit sets.
    public private(set) var pods: [Endpoint] = []
    public private(set) var external: [IPAddress] = []
    public private(set) var networkSets: [NetworkSet] = []
    public private(set) var serviceAccounts: [String: ServiceAccount] = [:]
    public private(set) var services: [String: KubernetesService] = [:]
    public private(set) var endpointSlices: [EndpointSlice] = []
    private var podIndex: [String: Int] = [:]
    private var addressIndex: [IPAddress: Int] = [:]

    public init() {}

    public init(
        namespaces: [Namespace],
        pods: [Endpoint],
        external: [IPAddress] = [],
        networkSets: [NetworkSet] = [],
        serviceAccounts: [ServiceAccount] = []
    ) {
        for namespace in namespaces { add(namespace) }
        for serviceAccount in serviceAccounts { add(serviceAccount) }
        for set in networkSets { add(set) }
        add(external: external)
        add(pods: pods)
    }

    public mutating func add(_ namespace: Namespace) { namespaces[namespace.name] = namespace }

    public mutating func add(_ serviceAccount: ServiceAccount) {
        serviceAccounts["\(serviceAccount.namespace)/\(serviceAccount.name)"] = serviceAccount
    }

    public mutating func add(_ networkSet: NetworkSet) { networkSets.append(networkSet) }

    public mutating func add(_ service: KubernetesService) {
        services["\(service.namespace)/\(service.name)"] = service
    }

    public mutating func add(_ slice: EndpointSlice) { endpointSlices.append(slice) }

    public mutating func add(external addresses: [IPAddress]) {
        for address in addresses where !external.contains(address) { external.append(address) }
    }

    /// Adds pods (a later pod of the same namespace and name replaces an earlier one) and creates any
    /// namespace they name that was not given, with only its name label, as the API server would.
    public mutating func add(pods newPods: [Endpoint]) {
        var byName: [String: Endpoint] = [:]
        for pod in pods + newPods { byName[pod.description] = pod }
        pods = byName.values.sorted { ($0.namespace ?? "", $0.name) < ($1.namespace ?? "", $1.name) }
        podIndex = [:]
        addressIndex = [:]
        for (index, pod) in pods.enumerated() {
            podIndex[pod.description] = index
            for address in pod.addresses where addressIndex[address] == nil { addressIndex[address] = index }
            if let namespace = pod.namespace, namespaces[namespace] == nil { add(Namespace(name: namespace)) }
        }
    }

    /// The index of the pod named `namespace/name`.
    public func pod(named name: String) -> Int? { podIndex[name] }

    /// The index of the pod that owns `address`.
    public func pod(owning address: IPAddress) -> Int? { addressIndex[address] }

    public func serviceAccount(namespace: String, name: String) -> ServiceAccount? {
        serviceAccounts["\(namespace)/\(name)"]
    }
}

extension Cluster {
    /// This state with `other`'s objects added; `other` wins where both define the same object.
    public func merging(_ other: Cluster) -> Cluster {
        var merged = self
        for namespace in other.namespaces.values { merged.add(namespace) }
        for account in other.serviceAccounts.values { merged.add(account) }
        let known = Set(networkSets.map { "\($0.namespace ?? "")/\($0.name)" })
        for set in other.networkSets where !known.contains("\(set.namespace ?? "")/\(set.name)") { merged.add(set) }
        for service in other.services.values { merged.add(service) }
        let slices = Set(endpointSlices.map { "\($0.namespace)/\($0.name)" })
        for slice in other.endpointSlices where !slices.contains("\(slice.namespace)/\(slice.name)") {
            merged.add(slice)
        }
        merged.add(external: other.external)
        merged.add(pods: other.pods)
        return merged
    }
}

extension Cluster {
    /// Where a Service sends traffic: its EndpointSlices when any is given, otherwise the pods its selector
    /// matches with its target ports resolved on each pod, as the EndpointSlice controller would.
    func targets(of reference: ServiceReference) -> [ServiceTarget] {
        let slices = endpointSlices.filter { $0.namespace == reference.namespace && $0.serviceName == reference.name }
        if !slices.isEmpty {
            return slices.flatMap { slice in
                slice.addresses.flatMap { address in
                    (slice.ports.isEmpty ? [EndpointSlice.Port(port: nil, protocol: .tcp)] : slice.ports).map {
                        ServiceTarget(address: address, port: $0.port, protocol: $0.protocol)
                    }
                }
            }
        }
        guard let service = services["\(reference.namespace)/\(reference.name)"], let selector = service.selector,
            !selector.isEmpty
        else { return [] }
        var targets: [ServiceTarget] = []
        for pod in pods where pod.namespace == reference.namespace {
            guard selector.allSatisfy({ pod.labels[$0.key] == $0.value }) else { continue }
            for port in service.ports {
                let number: UInt16?
                if let name = port.targetName {
                    number = pod.resolve(namedPort: name, protocol: port.protocol)
                } else {
                    number = port.targetNumber ?? port.port
                }
                guard let number else { continue }
                for address in pod.addresses {
                    targets.append(ServiceTarget(address: address, port: number, protocol: port.protocol))
                }
            }
        }
        return targets
    }
}
