import GatehouseCore

/// The policies a blueprint asks for, as YAML that kubectl applies and `gatehouse policy` reads back
/// (every scalar double-quoted, so no label value is misread), in one of three flavors:
///
/// - `kubernetes`: per AI namespace a default deny (ingress and egress) and DNS to the cluster DNS only;
///   per workload one policy for what it accepts and one for what it opens; `staged` writes Calico's
///   StagedKubernetesNetworkPolicies.
/// - `calico`: the same in a tier of its own, `gatehouse-rsvp` (order 1500: after the AdminNetworkPolicy
///   tier, 1000, and before `default`, 1,000,000), each namespace's last policy denying the rest, and
///   outside addresses in a GlobalNetworkSet per workload; `staged` writes StagedNetworkPolicies.
/// - `admin`: cluster-wide guard rails as ClusterNetworkPolicies in the Admin tier: model servers never
///   reachable from outside the AI namespaces, and the cloud metadata endpoint denied to every AI pod.
///
/// Host names (`fqdns`) are written in no flavor: neither NetworkPolicy nor open-source Calico's v3 API
/// can match them. Each is named in a comment and a warning, and only the `cidrs` given are allowed:
/// never "all egress".
public struct BlueprintPolicies: Sendable {
    public enum Flavor: String, Sendable, CaseIterable {
        case kubernetes
        case calico
        case admin
    }

    public static let tier = "gatehouse-rsvp"
    public static let tierOrder = 1500
    /// The address of the cloud metadata service (AWS, GCP, Azure, OpenStack).
    public static let metadataEndpoint = "169.254.169.254/32"

    public let blueprint: Blueprint
    public let flavor: Flavor
    public let staged: Bool
    /// What the output cannot express, one line each.
    public private(set) var warnings: [String] = []
    public private(set) var yaml = ""

    public init(_ blueprint: Blueprint, flavor: Flavor, staged: Bool = false) {
        self.blueprint = blueprint
        self.flavor = flavor
        self.staged = staged
        var documents: [String] = []
        for rule in blueprint.egress where !rule.fqdns.isEmpty {
            warnings.append(
                "\(rule.from): egress to \(rule.fqdns.joined(separator: ", ")) cannot be written as a \(flavor.rawValue) "
                    + "policy (no policy API here matches host names); only its cidrs are allowed"
                    + (rule.cidrs.isEmpty ? ", and it gives none: that egress stays denied" : "")
            )
        }
        switch flavor {
        case .kubernetes: documents = kubernetes()
        case .calico: documents = calico()
        case .admin: documents = admin()
        }
        let header = warnings.map { "# warning: \($0)\n" }.joined()
        yaml = header + documents.map { "---\n" + $0 }.joined()
    }

    // MARK: Kubernetes

    private func kubernetes() -> [String] {
        var documents: [String] = []
        for namespace in blueprint.namespaces {
            documents.append(
                """
                \(kubernetesKind)
                \(metadata("rsvp-default-deny", namespace))
                spec: {podSelector: {}, policyTypes: ["Ingress", "Egress"]}

                """
            )
            documents.append(
                """
                \(kubernetesKind)
                \(metadata("rsvp-allow-dns", namespace))
                spec:
                  podSelector: {}
                  policyTypes: ["Egress"]
                  egress:
                  - to: [{namespaceSelector: {matchLabels: {"kubernetes.io/metadata.name": \(q(blueprint.dns.namespace))}}, podSelector: {matchLabels: \(map(blueprint.dns.labels))}}]
                    ports: [{protocol: "UDP", port: 53}, {protocol: "TCP", port: 53}]

                """
            )
        }
        for workload in blueprint.governed {
            let sources = blueprint.connections.filter { $0.to == workload.name }.compactMap {
                blueprint.workload(named: $0.from)
            }
            if !sources.isEmpty {
                var text = kubernetesHeader(workload, direction: "Ingress")
                for source in sources {
                    text += "  - from: [\(kubernetesPeer(source, from: workload.namespace))]\n"
                    text += "    ports: [\(tcp(workload.ports))]\n"
                }
                documents.append(text)
            }
            let destinations = blueprint.connections.filter { $0.from == workload.name }.compactMap {
                blueprint.workload(named: $0.to)
            }
            let egress = blueprint.egress.filter { $0.from == workload.name && !$0.cidrs.isEmpty }
            if !destinations.isEmpty || !egress.isEmpty {
                var text = kubernetesHeader(workload, direction: "Egress")
                for destination in destinations {
                    text += "  - to: [\(kubernetesPeer(destination, from: workload.namespace))]\n"
                    text += "    ports: [\(tcp(destination.ports))]\n"
                }
                for rule in egress {
                    if !rule.fqdns.isEmpty { text += "  # for \(rule.fqdns.joined(separator: ", ")): addresses only\n" }
                    let blocks = rule.cidrs.map { "{ipBlock: {cidr: \(q($0.description))}}" }
                    text += "  - to: [\(blocks.joined(separator: ", "))]\n"
                    text += "    ports: [\(tcp(rule.ports))]\n"
                }
                documents.append(text)
            }
        }
        return documents
    }

    /// NetworkPolicy, or staged: Calico's StagedKubernetesNetworkPolicy, the same spec that only logs.
    private var kubernetesKind: String {
        staged
            ? "apiVersion: projectcalico.org/v3\nkind: StagedKubernetesNetworkPolicy"
            : "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy"
    }

    /// A workload's policy for one direction, up to its rules: `rsvp-NAME-ingress` or `rsvp-NAME-egress`.
    private func kubernetesHeader(_ workload: Blueprint.Workload, direction: String) -> String {
        """
        \(kubernetesKind)
        \(metadata("rsvp-\(workload.name)-\(direction.lowercased())", workload.namespace))
        spec:
          podSelector: {matchLabels: \(map(workload.labels))}
          policyTypes: ["\(direction)"]
          \(direction.lowercased()):

        """
    }

    private func kubernetesPeer(_ workload: Blueprint.Workload, from namespace: String) -> String {
        let pods = "podSelector: {matchLabels: \(map(workload.labels))}"
        if workload.namespace == namespace { return "{\(pods)}" }
        return
            "{namespaceSelector: {matchLabels: {\"kubernetes.io/metadata.name\": \(q(workload.namespace))}}, \(pods)}"
    }

    // MARK: Calico

    private func calico() -> [String] {
        let kind = staged ? "StagedNetworkPolicy" : "NetworkPolicy"
        var documents = [
            """
            apiVersion: projectcalico.org/v3
            kind: Tier
            metadata: {name: \(q(Self.tier)), labels: \(labels)}
            spec: {order: \(Self.tierOrder)}

            """
        ]
        for namespace in blueprint.namespaces {
            documents.append(
                """
                apiVersion: projectcalico.org/v3
                kind: \(kind)
                \(metadata(calicoName("allow-dns"), namespace))
                spec:
                  tier: \(q(Self.tier))
                  order: 100
                  selector: "all()"
                  types: ["Egress"]
                  egress:
                  - action: Allow
                    protocol: UDP
                    destination: {namespaceSelector: \(q(nameSelector(blueprint.dns.namespace))), selector: \(q(selector(blueprint.dns.labels))), ports: [53]}
                  - action: Allow
                    protocol: TCP
                    destination: {namespaceSelector: \(q(nameSelector(blueprint.dns.namespace))), selector: \(q(selector(blueprint.dns.labels))), ports: [53]}

                """
            )
        }
        for workload in blueprint.governed {
            var rules: [String] = []
            for connection in blueprint.connections where connection.to == workload.name {
                guard let source = blueprint.workload(named: connection.from) else { continue }
                rules.append(
                    "  - action: Allow\n    protocol: TCP\n    source: {namespaceSelector: \(q(nameSelector(source.namespace))), "
                        + "selector: \(q(selector(source.labels)))}\n    destination: {ports: [\(numbers(workload.ports))]}\n"
                )
            }
            var egress: [String] = []
            for connection in blueprint.connections where connection.from == workload.name {
                guard let destination = blueprint.workload(named: connection.to) else { continue }
                egress.append(
                    "  - action: Allow\n    protocol: TCP\n    destination: {namespaceSelector: \(q(nameSelector(destination.namespace))), "
                        + "selector: \(q(selector(destination.labels))), ports: [\(numbers(destination.ports))]}\n"
                )
            }
            for (index, rule) in blueprint.egress.enumerated() where rule.from == workload.name && !rule.cidrs.isEmpty {
                let set = "\(Self.tier)-\(workload.name)-\(index)"
                documents.append(
                    """
                    apiVersion: projectcalico.org/v3
                    kind: GlobalNetworkSet
                    metadata: {name: \(q(set)), labels: {"gatehouse.dev/egress": \(q(set))}}
                    spec:
                      nets: [\(rule.cidrs.map { q($0.description) }.joined(separator: ", "))]

                    """
                )
                let comment =
                    rule.fqdns.isEmpty ? "" : "  # for \(rule.fqdns.joined(separator: ", ")): addresses only\n"
                egress.append(
                    comment
                        + "  - action: Allow\n    protocol: TCP\n    destination: {namespaceSelector: \"global()\", "
                        + "selector: \(q("gatehouse.dev/egress == '\(set)'")), ports: [\(numbers(rule.ports))]}\n"
                )
            }
            guard !rules.isEmpty || !egress.isEmpty else { continue }
            var types: [String] = []
            if !rules.isEmpty { types.append("\"Ingress\"") }
            if !egress.isEmpty { types.append("\"Egress\"") }
            var text = """
                apiVersion: projectcalico.org/v3
                kind: \(kind)
                \(metadata(calicoName(workload.name), workload.namespace))
                spec:
                  tier: \(q(Self.tier))
                  order: 200
                  selector: \(q(selector(workload.labels)))
                  types: [\(types.joined(separator: ", "))]

                """
            if !rules.isEmpty { text += "  ingress:\n" + rules.joined() }
            if !egress.isEmpty { text += "  egress:\n" + egress.joined() }
            documents.append(text)
        }
        // Last in the tier: every pod of the namespace, no rule, so the end of the tier denies the rest.
        for namespace in blueprint.namespaces {
            documents.append(
                """
                apiVersion: projectcalico.org/v3
                kind: \(kind)
                \(metadata(calicoName("default-deny"), namespace))
                spec: {tier: \(q(Self.tier)), order: 1000, selector: "all()", types: ["Ingress", "Egress"]}

                """
            )
        }
        return documents
    }

    private func calicoName(_ name: String) -> String { "\(Self.tier).rsvp-\(name)" }

    private func nameSelector(_ namespace: String) -> String {
        "projectcalico.org/name == '\(namespace)'"
    }

    private func selector(_ labels: [String: String]) -> String {
        labels.isEmpty
            ? "all()" : labels.sorted { $0.key < $1.key }.map { "\($0.key) == '\($0.value)'" }.joined(separator: " && ")
    }

    // MARK: Admin

    private func admin() -> [String] {
        let aiNamespaces = blueprint.namespaces.map(q).joined(separator: ", ")
        var documents: [String] = []
        for model in blueprint.workloads where model.role == .model {
            documents.append(
                """
                apiVersion: policy.networking.k8s.io/v1alpha2
                kind: ClusterNetworkPolicy
                metadata: {name: \(q("rsvp-\(model.name)-ai-only")), labels: \(labels)}
                spec:
                  tier: Admin
                  priority: 10
                  subject:
                    pods:
                      namespaceSelector: {matchLabels: {"kubernetes.io/metadata.name": \(q(model.namespace))}}
                      podSelector: {matchLabels: \(map(model.labels))}
                  ingress:
                  - name: deny-outside-ai-namespaces
                    action: Deny
                    from: [{namespaces: {matchExpressions: [{key: "kubernetes.io/metadata.name", operator: NotIn, values: [\(aiNamespaces)]}]}}]

                """
            )
        }
        documents.append(
            """
            apiVersion: policy.networking.k8s.io/v1alpha2
            kind: ClusterNetworkPolicy
            metadata: {name: "rsvp-deny-metadata-endpoint", labels: \(labels)}
            spec:
              tier: Admin
              priority: 10
              subject:
                namespaces: {matchExpressions: [{key: "kubernetes.io/metadata.name", operator: In, values: [\(aiNamespaces)]}]}
              egress:
              - name: deny-cloud-metadata
                action: Deny
                to: [{networks: [\(q(Self.metadataEndpoint))]}]

            """
        )
        return documents
    }

    // MARK: Writing

    private var labels: String {
        "{\"app.kubernetes.io/managed-by\": \"gatehouse\", \"gatehouse.dev/blueprint\": \(q(blueprint.name))}"
    }

    private func metadata(_ name: String, _ namespace: String) -> String {
        "metadata: {name: \(q(name)), namespace: \(q(namespace)), labels: \(labels)}"
    }

    private func map(_ labels: [String: String]) -> String {
        "{" + labels.sorted { $0.key < $1.key }.map { "\(q($0.key)): \(q($0.value))" }.joined(separator: ", ") + "}"
    }

    private func tcp(_ ports: [UInt16]) -> String {
        ports.map { "{protocol: \"TCP\", port: \($0)}" }.joined(separator: ", ")
    }

    private func numbers(_ ports: [UInt16]) -> String { ports.map(String.init).joined(separator: ", ") }

    private func q(_ text: String) -> String { JSONText.quoted(text) }
}
