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
    private var netCache: [NetKey: BitSet] = [:]

    private struct NetKey: Hashable {
        let nets: [CIDR]
        let family: IPAddress.Family
    }

    init(cluster: Cluster) {
        self.cluster = cluster
        var all = BitSet(count: cluster.pods.count)
        var classes: [String: [Labels: [String: Int]]] = [:]
        var byNamespace: [String: [PodClass]] = [:]
        for (index, pod) in cluster.pods.enumerated() {
            all.insert(index)
            // Host-network pods are no workload endpoints: no selector picks them (only their address can).
            if pod.hostNetwork { continue }
            let namespace = pod.namespace ?? ""
            let account = pod.serviceAccount ?? "default"
            if let position = classes[namespace]?[pod.labels]?[account] {
                byNamespace[namespace]![position].pods.append(index)
                continue
            }
            var accountLabels = cluster.serviceAccount(namespace: namespace, name: account)?.labels ?? [:]
            accountLabels["projectcalico.org/name"] = account
            // Calico's workload endpoint labels: the pod's own, the implicit ones, and those inherited from the
            // namespace (kns.) and service account (ksa.) profiles with their pcns./pcsa. prefixes.
            var calico = MemberIndex.profileLabels(namespace: cluster.namespaces[namespace])
            for (key, value) in accountLabels { calico["pcsa.\(key)"] = value }
            calico = calico.merging(pod.labels)
            calico["projectcalico.org/namespace"] = namespace
            calico["projectcalico.org/orchestrator"] = "k8s"
            if !account.isEmpty && account.count < 63 { calico["projectcalico.org/serviceaccount"] = account }
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

    /// The labels a Calico namespace profile (`kns.NAME`) gives its endpoints: `pcns.`-prefixed namespace labels.
    static func profileLabels(namespace: Namespace?) -> Labels {
        var labels: Labels = [:]
        for (key, value) in namespace?.calicoLabels ?? [:] { labels["pcns.\(key)"] = value }
        return labels
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
                var labels = set.namespace.map { MemberIndex.profileLabels(namespace: cluster.namespaces[$0]) } ?? [:]
                labels = labels.merging(set.labels)
                if let namespace = set.namespace { labels["projectcalico.org/namespace"] = namespace }
                if query.selector.matches(labels) { nets += set.nets }
            }
        }
        let result = Members(pods: pods, nets: nets)
        cache[query] = result
        return result
    }

    /// The pods a peer's query matches for a connection of `family`: by identity, and (Calico matches selectors
    /// by IP set) those whose address of that family lies in a selected network set.
    mutating func peerPods(_ query: MemberQuery, family: IPAddress.Family) -> BitSet {
        let resolved = members(query)
        var pods = resolved.pods
        if !resolved.nets.isEmpty { pods.formUnion(podsIn(resolved.nets, family: family)) }
        return pods
    }

    /// The pods one peer matches, for each connection family: every criterion of the peer must hold.
    mutating func peerBits(_ peer: Peer) -> PeerBits {
        var bits = PeerBits(allPods)
        for family in [IPAddress.Family.v4, .v6] {
            if let members = peer.members { bits[family].formIntersection(peerPods(members, family: family)) }
            if let notMembers = peer.notMembers { bits[family].subtract(peerPods(notMembers, family: family)) }
            if let nets = peer.nets { bits[family].formIntersection(podsIn(nets, family: family)) }
            if !peer.notNets.isEmpty { bits[family].subtract(podsIn(peer.notNets, family: family)) }
            if let service = peer.service {
                bits[family].formIntersection(podsIn(serviceNets(service), family: family))
            }
        }
        return bits
    }

    /// A Service's endpoint addresses, as host networks: pods own some, others lie outside the cluster.
    func serviceNets(_ service: ServiceReference) -> [CIDR] {
        Array(Set(cluster.targets(of: service).map { CIDR(host: $0.address) })).sorted()
    }

    /// The pods whose address of `family` lies in any of `nets` (nets of the other family match nothing).
    mutating func podsIn(_ nets: [CIDR], family: IPAddress.Family) -> BitSet {
        let key = NetKey(nets: nets, family: family)
        if let cached = netCache[key] { return cached }
        var bits = BitSet(count: cluster.pods.count)
        let relevant = nets.filter { $0.family == family }
        if !relevant.isEmpty {
            for (index, pod) in cluster.pods.enumerated() {
                guard let address = pod.addresses.first(where: { $0.family == family }) else { continue }
                if relevant.contains(where: { $0.contains(address) }) { bits.insert(index) }
            }
        }
        netCache[key] = bits
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
        case .namespaces(let selector):
            // rules.go prefixes the namespace selector's labels with pcns.; a global set has none, so it is in
            // scope when the selector holds on no labels (`!has(team)`), except for `all()`, which Calico rewrites
            // to has(projectcalico.org/namespace).
            guard let namespace = set.namespace else { return !selector.isAll && selector.matches([:]) }
            return namespaces.contains(namespace)
        case .cluster: return true
        case .global: return set.namespace == nil
        }
    }
}
