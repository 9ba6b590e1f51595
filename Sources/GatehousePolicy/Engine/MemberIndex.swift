import GatehouseCore

/// Resolves member queries against the cluster, once per distinct query.
///
/// Pods with the same namespace, labels and service account form one class, so a selector is evaluated
/// once per class rather than once per pod, as Calico's label index does.
struct MemberIndex {
    struct Members {
        let pods: BitSet
        /// Nets of the network sets the query selects (Calico): addresses outside the cluster match by these.
        let nets: [CIDR]
    }

    private struct PodClass {
        let namespace: String
        let labels: Labels
        let calicoLabels: Labels
        let serviceAccount: String
        let serviceAccountLabels: Labels
        var pods: [Int]
    }

    private struct NamespaceKey: Hashable {
        let selector: Selector
        let dialect: MemberQuery.Dialect
    }

    let cluster: Cluster
    let allPods: BitSet
    private var classesByNamespace: [String: [PodClass]] = [:]
    private var cache: [MemberQuery: Members] = [:]
    private var namespaceCache: [NamespaceKey: Set<String>] = [:]
    private var netCache: [[CIDR]: BitSet] = [:]

    init(cluster: Cluster) {
        self.cluster = cluster
        var all = BitSet(count: cluster.pods.count)
        var classes: [String: [Labels: [String: Int]]] = [:]
        var byNamespace: [String: [PodClass]] = [:]
        for (index, pod) in cluster.pods.enumerated() {
            all.insert(index)
            let namespace = pod.namespace ?? ""
            let account = pod.serviceAccount ?? "default"
            if let position = classes[namespace]?[pod.labels]?[account] {
                byNamespace[namespace]![position].pods.append(index)
                continue
            }
            var calico = pod.labels
            calico["projectcalico.org/namespace"] = namespace
            calico["projectcalico.org/orchestrator"] = "k8s"
            if !account.isEmpty && account.count < 63 { calico["projectcalico.org/serviceaccount"] = account }
            var accountLabels = cluster.serviceAccount(namespace: namespace, name: account)?.labels ?? [:]
            accountLabels["projectcalico.org/name"] = account
            let podClass = PodClass(
                namespace: namespace,
                labels: pod.labels,
                calicoLabels: calico,
                serviceAccount: account,
                serviceAccountLabels: accountLabels,
                pods: [index]
            )
            classes[namespace, default: [:]][pod.labels, default: [:]][account] =
                byNamespace[namespace, default: []].count
            byNamespace[namespace, default: []].append(podClass)
        }
        self.allPods = all
        self.classesByNamespace = byNamespace
    }

    mutating func members(_ query: MemberQuery) -> Members {
        if let cached = cache[query] { return cached }
        var pods = BitSet(count: cluster.pods.count)
        let namespaces = self.namespaces(in: query.scope, dialect: query.dialect)
        for namespace in namespaces {
            for podClass in classesByNamespace[namespace] ?? [] {
                let labels = query.dialect == .calico ? podClass.calicoLabels : podClass.labels
                guard query.selector.matches(labels) else { continue }
                if let names = query.serviceAccountNames, !names.contains(podClass.serviceAccount) { continue }
                if let selector = query.serviceAccountSelector, !selector.matches(podClass.serviceAccountLabels) {
                    continue
                }
                for index in podClass.pods { pods.insert(index) }
            }
        }
        var nets: [CIDR] = []
        if query.includesNetworkSets {
            for set in cluster.networkSets where setInScope(set, query.scope, namespaces) {
                var labels = set.labels
                if let namespace = set.namespace { labels["projectcalico.org/namespace"] = namespace }
                if query.selector.matches(labels) { nets += set.nets }
            }
            // Calico matches selectors by IP set, so a pod whose address lies in a selected set's nets matches too.
            if !nets.isEmpty { pods.formUnion(podsIn(nets)) }
        }
        let result = Members(pods: pods, nets: nets)
        cache[query] = result
        return result
    }

    /// The pods whose address (the first one) lies in any of `nets`.
    mutating func podsIn(_ nets: [CIDR]) -> BitSet {
        if let cached = netCache[nets] { return cached }
        var bits = BitSet(count: cluster.pods.count)
        for (index, pod) in cluster.pods.enumerated() {
            guard let address = pod.addresses.first else { continue }
            if nets.contains(where: { $0.contains(address) }) { bits.insert(index) }
        }
        netCache[nets] = bits
        return bits
    }

    private mutating func namespaces(in scope: MemberQuery.Scope, dialect: MemberQuery.Dialect) -> [String] {
        switch scope {
        case .namespace(let name):
            return [name]
        case .cluster:
            return Array(classesByNamespace.keys)
        case .global:
            return []
        case .namespaces(let selector):
            let key = NamespaceKey(selector: selector, dialect: dialect)
            if let cached = namespaceCache[key] { return Array(cached) }
            var names: Set<String> = []
            for namespace in cluster.namespaces.values {
                let labels = dialect == .calico ? namespace.calicoLabels : namespace.labels
                if selector.matches(labels) { names.insert(namespace.name) }
            }
            namespaceCache[key] = names
            return Array(names)
        }
    }

    private func setInScope(_ set: NetworkSet, _ scope: MemberQuery.Scope, _ namespaces: [String]) -> Bool {
        switch scope {
        case .namespace(let name): return set.namespace == name
        case .namespaces: return set.namespace.map { namespaces.contains($0) } ?? false
        case .cluster: return true
        case .global: return set.namespace == nil
        }
    }
}
