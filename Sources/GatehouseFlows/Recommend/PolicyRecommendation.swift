import GatehouseCore

/// Least-privilege policies from observed traffic: per namespace a default deny (ingress and egress),
/// and per workload one policy that allows exactly the connections it was seen to accept and to open,
/// as Kubernetes NetworkPolicies or Calico NetworkPolicies. Written as YAML that `gatehouse policy`
/// reads back (every scalar double-quoted, so no label value is misread).
public struct PolicyRecommendation: Sendable {
    public enum Flavor: String, Sendable, CaseIterable {
        case kubernetes
        case calico
    }

    public let traffic: ObservedTraffic

    public init(traffic: ObservedTraffic) {
        self.traffic = traffic
    }

    public func yaml(_ flavor: Flavor) -> String {
        let workloads = traffic.workloads
        var documents: [String] = []
        for namespace in Set(workloads.map(\.namespace)).sorted() {
            documents.append(defaultDeny(namespace: namespace, flavor))
        }
        var used: Set<String> = []
        for workload in workloads {
            var name = "\(Self.dnsLabel(workload.name))-recommended"
            var suffix = 2
            while used.contains("\(workload.namespace)/\(name)") {
                name = "\(Self.dnsLabel(workload.name))-recommended-\(suffix)"
                suffix += 1
            }
            used.insert("\(workload.namespace)/\(name)")
            let ingress = traffic.ingress[workload] ?? [:]
            let egress = traffic.egress[workload] ?? [:]
            documents.append(
                flavor == .kubernetes
                    ? kubernetes(workload, name: name, ingress: ingress, egress: egress)
                    : calico(workload, name: name, ingress: ingress, egress: egress)
            )
        }
        return documents.map { "---\n" + $0 }.joined()
    }

    // MARK: Kubernetes

    private func defaultDeny(namespace: String, _ flavor: Flavor) -> String {
        switch flavor {
        case .kubernetes:
            return """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                \(metadata("default-deny", namespace))
                spec: {podSelector: {}, policyTypes: [Ingress, Egress]}

                """
        case .calico:
            return """
                apiVersion: projectcalico.org/v3
                kind: NetworkPolicy
                \(metadata("default-deny", namespace))
                spec: {selector: all(), types: [Ingress, Egress]}

                """
        }
    }

    private typealias Rules = [ObservedTraffic.Peer: Set<ObservedTraffic.Port>]

    private func kubernetes(_ workload: ObservedTraffic.Workload, name: String, ingress: Rules, egress: Rules) -> String
    {
        let header = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            \(metadata(name, workload.namespace))
            spec:
              podSelector: \(podSelector(workload))
              policyTypes: [Ingress, Egress]

            """
        return document(header, ingress: ingress, egress: egress, sides: ("from", "to")) { peer, ports, side in
            let listed = ports.sorted().map { "{protocol: \($0.protocol), port: \($0.number)}" }
            return "    - \(side): [\(kubernetesPeer(peer, from: workload.namespace))]\n"
                + "      ports: [\(listed.joined(separator: ", "))]\n"
        }
    }

    /// A policy document: its header, then the ingress and egress rules (an empty list denies all).
    private func document(
        _ header: String,
        ingress: Rules,
        egress: Rules,
        sides: (ingress: String, egress: String),
        rule: (ObservedTraffic.Peer, Set<ObservedTraffic.Port>, String) -> String
    ) -> String {
        var text = header
        for (key, side, rules) in [("ingress", sides.ingress, ingress), ("egress", sides.egress, egress)] {
            guard !rules.isEmpty else {
                text += "  \(key): []\n"
                continue
            }
            text += "  \(key):\n"
            for peer in rules.keys.sorted() { text += rule(peer, rules[peer] ?? [], side) }
        }
        return text
    }

    private func metadata(_ name: String, _ namespace: String) -> String {
        "metadata: {name: \(q(name)), namespace: \(q(namespace)), labels: {\"gatehouse.io/recommended\": \"true\"}}"
    }

    private func kubernetesPeer(_ peer: ObservedTraffic.Peer, from namespace: String) -> String {
        switch peer {
        case .workload(let other) where other.namespace == namespace:
            return "{podSelector: \(podSelector(other))}"
        case .workload(let other):
            return "{namespaceSelector: {matchLabels: {\"kubernetes.io/metadata.name\": \(q(other.namespace))}}, "
                + "podSelector: \(podSelector(other))}"
        case .address(let address):
            return "{ipBlock: {cidr: \(q(Self.hostCIDR(address)))}}"
        }
    }

    // MARK: Calico

    private func calico(_ workload: ObservedTraffic.Workload, name: String, ingress: Rules, egress: Rules) -> String {
        let header = """
            apiVersion: projectcalico.org/v3
            kind: NetworkPolicy
            \(metadata(name, workload.namespace))
            spec:
              selector: \(q(Self.calicoSelector(workload)))
              types: [Ingress, Egress]

            """
        return document(header, ingress: ingress, egress: egress, sides: ("source", "destination")) {
            peer,
            ports,
            side in
            // A Calico rule has one protocol: one rule per protocol seen with this peer.
            let byProtocol = Dictionary(grouping: ports, by: \.protocol)
            var text = ""
            for ipProtocol in byProtocol.keys.sorted() {
                let numbers = (byProtocol[ipProtocol] ?? []).sorted().map { String($0.number) }
                let peerText = calicoPeer(peer, from: workload.namespace)
                let portsText = "ports: [\(numbers.joined(separator: ", "))]"
                text += "    - action: Allow\n      protocol: \(ipProtocol)\n"
                if side == "source" {
                    text += "      source: \(peerText)\n      destination: {\(portsText)}\n"
                } else {
                    text += "      destination: \(peerText.dropLast()), \(portsText)}\n"
                }
            }
            return text
        }
    }

    private func calicoPeer(_ peer: ObservedTraffic.Peer, from namespace: String) -> String {
        switch peer {
        case .workload(let other) where other.namespace == namespace:
            return "{selector: \(q(Self.calicoSelector(other)))}"
        case .workload(let other):
            return "{namespaceSelector: \(q("projectcalico.org/name == '\(other.namespace)'")), "
                + "selector: \(q(Self.calicoSelector(other)))}"
        case .address(let address):
            return "{nets: [\(q(Self.hostCIDR(address)))]}"
        }
    }

    // MARK: Text

    private func q(_ text: String) -> String { JSONText.quoted(text) }

    private func map(_ labels: [String: String]) -> String {
        "{" + labels.keys.sorted().map { "\(q($0)): \(q(labels[$0] ?? ""))" }.joined(separator: ", ") + "}"
    }

    /// `app == 'vllm' && !has(track)`. Label values cannot hold quotes (Kubernetes validates them), so
    /// single quotes are safe.
    static func calicoSelector(_ workload: ObservedTraffic.Workload) -> String {
        let labels = workload.labels
        let terms =
            labels.keys.sorted().map { "\($0) == '\(labels[$0] ?? "")'" } + workload.excludedKeys.map { "!has(\($0))" }
        return terms.joined(separator: " && ")
    }

    /// `{matchLabels: {...}}`, with `DoesNotExist` for the keys that would select other workloads too.
    private func podSelector(_ workload: ObservedTraffic.Workload) -> String {
        guard !workload.excludedKeys.isEmpty else { return "{matchLabels: \(map(workload.labels))}" }
        let expressions = workload.excludedKeys.map { "{key: \(q($0)), operator: DoesNotExist}" }
        return "{matchLabels: \(map(workload.labels)), matchExpressions: [\(expressions.joined(separator: ", "))]}"
    }

    static func hostCIDR(_ address: IPAddress) -> String {
        "\(address)/\(address.description.contains(":") ? 128 : 32)"
    }

    /// A DNS label from a workload name: lowercase letters, digits and dashes, at most 40 characters.
    static func dnsLabel(_ name: String) -> String {
        var label = String(name.lowercased().map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "-" })
        label = String(label.trimmingPrefix { $0 == "-" }.prefix(40))
        while label.hasSuffix("-") { label.removeLast() }
        return label.isEmpty ? "workload" : label
    }
}
