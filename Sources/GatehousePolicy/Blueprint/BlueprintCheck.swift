import GatehouseCore

/// The proof a blueprint's policies are printed with: they are loaded back into the engine with a cluster
/// (the live one, or one example pod per workload), and every flow between the named workloads, the
/// cluster DNS, a pod outside the AI namespaces and outside addresses is evaluated. A declared flow must
/// be allowed, any other flow to or from an AI namespace denied; a difference is a bug in the generator.
///
/// The `admin` flavor only adds guard rails: for it, declared flows must stay allowed, model servers
/// must be unreachable from outside the AI namespaces, and the metadata endpoint denied to AI pods.
public struct BlueprintCheck: Sendable {
    public struct Probe: Sendable, Hashable {
        public let from: String
        public let to: String
        public let `protocol`: IPProtocol
        public let port: UInt16
        public let expected: Verdict
        public let actual: Verdict
    }

    /// The pod that stands for no declared workload, in a namespace of its own.
    public static let outsider = "gatehouse-outside/outsider"
    /// An outside address no rule allows.
    public static let elsewhere = IPAddress("192.0.2.254")!

    /// Every flow checked; those whose `actual` is not `expected` are the failures.
    public let probes: [Probe]
    /// The cluster and policies evaluated, for `--explain`'s matrix.
    public let bundle: ResourceBundle

    public var failures: [Probe] { probes.filter { $0.expected != $0.actual } }

    /// Checks `policies` (the generated YAML) with `cluster` (cluster state: namespaces and pods), or with
    /// example pods when nil; `staged` evaluates with staged policies in force (what they would do).
    /// Throws when either cannot be loaded, or a workload matches no pod.
    public init(
        _ blueprint: Blueprint,
        flavor: BlueprintPolicies.Flavor,
        policies: String,
        cluster: ResourceBundle? = nil,
        staged: Bool = false
    ) throws(ResourceErrors) {
        var texts = [(text: policies, file: "blueprint policies")]
        if cluster == nil { texts.append((BlueprintCheck.examples(blueprint), "blueprint example pods")) }
        var bundle = try ResourceLoader(strict: true).load(paths: [], texts: texts)
        if let cluster {
            // The policies as they would be once applied: the cluster's, with the generated ones replacing
            // those of the same kind, namespace and name.
            bundle = ResourceBundle(
                cluster: cluster.cluster.merging(bundle.cluster),
                policySet: cluster.policySet.applying(bundle.policySet)
            )
        }
        var externals = [BlueprintCheck.elsewhere, IPAddress("169.254.169.254")!]
        for rule in blueprint.egress {
            for cidr in rule.cidrs where !externals.contains(cidr.address) { externals.append(cidr.address) }
        }
        bundle.cluster.add(external: externals)
        self.bundle = bundle
        let engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)

        // Each workload by one of its pods, the DNS, the outsider, and the outside addresses.
        var members: [(name: String, endpoint: FlowEndpoint, workload: Blueprint.Workload?)] = []
        for workload in blueprint.workloads {
            guard let pod = BlueprintCheck.pod(of: workload, in: bundle.cluster) else {
                throw ResourceErrors([
                    ResourceError(
                        .unknownReference,
                        "\(workload.role.rawValue) \(workload.name) matches no pod in namespace \(workload.namespace)"
                    )
                ])
            }
            members.append((bundle.cluster.pods[pod].description, .pod(pod), workload))
        }
        let dnsWorkload = Blueprint.Workload(
            name: "dns",
            role: .app,
            namespace: blueprint.dns.namespace,
            labels: blueprint.dns.labels,
            ports: [53]
        )
        if let dns = BlueprintCheck.pod(of: dnsWorkload, in: bundle.cluster) {
            members.append((bundle.cluster.pods[dns].description, .pod(dns), nil))
        }
        if let outsider = bundle.cluster.pod(named: BlueprintCheck.outsider) {
            members.append((BlueprintCheck.outsider, .pod(outsider), nil))
        }
        for address in externals { members.append(("ip:\(address)", .external(address), nil)) }

        var ports: [(IPProtocol, UInt16)] = [(.udp, 53), (.tcp, 53), (.tcp, 80), (.tcp, 9999)]
        for port in blueprint.workloads.flatMap(\.ports) + blueprint.egress.flatMap(\.ports)
        where !ports.contains(where: { $0 == (.tcp, port) }) {
            ports.append((.tcp, port))
        }
        let governed = Set(blueprint.governed.map(\.name))
        var probes: [Probe] = []
        for source in members {
            for destination in members where source.name != destination.name {
                let sourceGoverned = source.workload.map { governed.contains($0.name) } ?? false
                let destinationGoverned = destination.workload.map { governed.contains($0.name) } ?? false
                guard sourceGoverned || destinationGoverned || flavor == .admin else { continue }
                if case .external = source.endpoint { continue }
                for (proto, port) in ports {
                    guard
                        let expected = BlueprintCheck.expected(
                            blueprint,
                            flavor: flavor,
                            from: source,
                            to: destination,
                            proto,
                            port
                        )
                    else { continue }
                    let flow = Flow(
                        source: source.endpoint,
                        destination: destination.endpoint,
                        protocol: proto,
                        port: port
                    )
                    probes.append(
                        Probe(
                            from: source.name,
                            to: destination.name,
                            protocol: proto,
                            port: port,
                            expected: expected,
                            actual: engine.allows(flow, staged: staged) ? .allow : .deny
                        )
                    )
                }
            }
        }
        self.probes = probes
    }

    /// What a flow should be; nil when the flavor says nothing about it.
    private static func expected(
        _ blueprint: Blueprint,
        flavor: BlueprintPolicies.Flavor,
        from source: (name: String, endpoint: FlowEndpoint, workload: Blueprint.Workload?),
        to destination: (name: String, endpoint: FlowEndpoint, workload: Blueprint.Workload?),
        _ proto: IPProtocol,
        _ port: UInt16
    ) -> Verdict? {
        let declared: Bool
        switch (source.workload, destination.workload, destination.endpoint) {
        case (let from?, let to?, _):
            declared =
                proto == .tcp && to.ports.contains(port)
                && blueprint.connections.contains(Blueprint.Connection(from: from.name, to: to.name))
        case (let from?, nil, .external(let address)):
            declared =
                proto == .tcp
                && blueprint.egress.contains {
                    $0.from == from.name && $0.ports.contains(port) && $0.cidrs.contains { $0.contains(address) }
                }
        case (let from?, nil, .pod):
            // The only unnamed pod an AI pod may reach is the cluster DNS.
            declared =
                destination.name != outsider && port == 53 && (proto == .udp || proto == .tcp)
                && blueprint.namespaces.contains(from.namespace)
        default:
            declared = false
        }
        guard flavor == .admin else { return declared ? .allow : .deny }
        // Guard rails: they deny these, and must leave every declared flow allowed.
        if declared { return .allow }
        if let model = destination.workload, model.role == .model {
            let sourceNamespace = source.workload?.namespace ?? String(source.name.prefix { $0 != "/" })
            if !blueprint.namespaces.contains(sourceNamespace) { return .deny }
        }
        if case .external(let address) = destination.endpoint, address == IPAddress("169.254.169.254")!,
            let from = source.workload, blueprint.namespaces.contains(from.namespace)
        {
            return .deny
        }
        return nil
    }

    /// The first pod a workload's namespace and labels select.
    private static func pod(of workload: Blueprint.Workload, in cluster: Cluster) -> Int? {
        cluster.pods.indices.first { index in
            let pod = cluster.pods[index]
            return pod.namespace == workload.namespace
                && workload.labels.allSatisfy { pod.labels[$0.key] == $0.value }
        }
    }

    /// One pod per workload (`NAME-0`, addresses from 10.254.0.0/16), the cluster DNS and the outsider,
    /// with their namespaces: a cluster to prove the policies on when no live one is given.
    static func examples(_ blueprint: Blueprint) -> String {
        var namespaces = blueprint.namespaces
        for namespace in blueprint.workloads.map(\.namespace) + [blueprint.dns.namespace, "gatehouse-outside"]
        where !namespaces.contains(namespace) {
            namespaces.append(namespace)
        }
        var items: [String] = namespaces.map {
            "- {apiVersion: \"v1\", kind: \"Namespace\", metadata: {name: \(JSONText.quoted($0))}}"
        }
        var pods: [(namespace: String, name: String, labels: [String: String], ports: [(String, UInt16)])] = []
        for workload in blueprint.workloads {
            var labels = workload.labels
            if labels.isEmpty { labels["gatehouse.dev/example"] = workload.name }
            pods.append((workload.namespace, "\(workload.name)-0", labels, workload.ports.map { ("TCP", $0) }))
        }
        pods.append((blueprint.dns.namespace, "dns-0", blueprint.dns.labels, [("UDP", 53), ("TCP", 53)]))
        pods.append(("gatehouse-outside", "outsider", ["app": "outsider"], [("TCP", 80)]))
        for (index, pod) in pods.enumerated() {
            let labels = pod.labels.sorted { $0.key < $1.key }.map {
                "\(JSONText.quoted($0.key)): \(JSONText.quoted($0.value))"
            }
            let ports = pod.ports.map { "{containerPort: \($0.1), protocol: \"\($0.0)\"}" }
            items.append(
                "- {apiVersion: \"v1\", kind: \"Pod\", metadata: {name: \(JSONText.quoted(pod.name)), namespace: \(JSONText.quoted(pod.namespace)), "
                    + "labels: {\(labels.joined(separator: ", "))}}, spec: {containers: [{name: \"main\", ports: [\(ports.joined(separator: ", "))]}]}, "
                    + "status: {podIP: \"10.254.\(index / 250).\(index % 250 + 1)\"}}"
            )
        }
        return "apiVersion: v1\nkind: List\nitems:\n" + items.joined(separator: "\n") + "\n"
    }
}
