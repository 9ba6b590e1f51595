import GatehouseCore

/// Decodes `policy.networking.k8s.io` AdminNetworkPolicy and BaselineAdminNetworkPolicy (v1alpha1) and
/// ClusterNetworkPolicy (v1alpha2 and v1beta1), following `kubernetes-sigs/network-policy-api` `apis/`.
enum ClusterNetworkPolicyDecoder {
    enum Flavor {
        case admin
        case baseline
        case cluster

        var kind: PolicyKind {
            switch self {
            case .admin: return .adminNetworkPolicy
            case .baseline: return .baselineAdminNetworkPolicy
            case .cluster: return .clusterNetworkPolicy
            }
        }

        var actions: [String: RuleAction] {
            switch self {
            case .admin: return ["Allow": .allow, "Deny": .deny, "Pass": .pass]
            case .baseline: return ["Allow": .allow, "Deny": .deny]
            case .cluster: return ["Accept": .allow, "Deny": .deny, "Pass": .pass]
            }
        }
    }

    static func policy(_ object: FieldObject, flavor: Flavor) throws(ResourceError) -> Policy {
        let metadata = try object.required("metadata").metadata(namespaced: false)
        let known: Set<String> =
            switch flavor {
            case .admin: ["priority", "subject", "ingress", "egress"]
            case .baseline: ["subject", "ingress", "egress"]
            case .cluster: ["tier", "priority", "subject", "ingress", "egress"]
            }
        let specField = try object.required("spec")
        let spec = try specField.object(known: known)
        if flavor == .baseline && metadata.name != "default" {
            throw try object.required("metadata").error(
                .invalidValue,
                "a BaselineAdminNetworkPolicy must be named \"default\", not \"\(metadata.name)\""
            )
        }
        var tier = flavor == .baseline ? Tier.baseline : Tier.admin
        if flavor == .cluster {
            let tierField = try spec.required("tier")
            switch try tierField.string() {
            case "Admin": tier = .admin
            case "Baseline": tier = .baseline
            case let other: throw tierField.error(.invalidValue, "tier must be Admin or Baseline, not \"\(other)\"")
            }
        }
        var priority: Double?
        if flavor != .baseline {
            let field = try spec.required("priority")
            let value = try field.int()
            guard (0...1000).contains(value) else {
                throw field.error(.invalidValue, "priority \(value) is outside 0-1000")
            }
            priority = Double(value)
        }
        let subject = try subject(try spec.required("subject"))
        let ingress = try rules(spec["ingress"], direction: .ingress, flavor: flavor)
        let egress = try rules(spec["egress"], direction: .egress, flavor: flavor)
        var types: Set<TrafficDirection> = []
        if !ingress.isEmpty { types.insert(.ingress) }
        if !egress.isEmpty { types.insert(.egress) }
        return Policy(
            kind: flavor.kind,
            namespace: nil,
            name: metadata.name,
            tier: tier.name,
            order: priority ?? 0,
            subject: subject,
            types: types,
            ingress: ingress,
            egress: egress,
            location: object.field.location
        )
    }

    private static func subject(_ field: Field) throws(ResourceError) -> MemberQuery {
        let object = try field.object(known: ["namespaces", "pods"])
        switch (object["namespaces"], object["pods"]) {
        case (let namespaces?, nil):
            return MemberQuery(scope: .namespaces(try namespaceSet(namespaces)), selector: .all, dialect: .kubernetes)
        case (nil, let pods?):
            return try podsQuery(pods)
        default:
            throw field.error(.invalidValue, "subject needs exactly one of namespaces or pods")
        }
    }

    /// `pods: {namespaceSelector, podSelector}`, or the early v1alpha1 `pods: {namespaces, podSelector}`.
    private static func podsQuery(_ field: Field) throws(ResourceError) -> MemberQuery {
        let object = try field.object(known: ["namespaceSelector", "namespaces", "podSelector"])
        var namespaces = try object["namespaceSelector"]?.labelSelector().selector ?? .all
        if let early = object["namespaces"] { namespaces = try namespaceSet(early) }
        let pods = try object["podSelector"]?.labelSelector() ?? .everything
        return MemberQuery(scope: .namespaces(namespaces), selector: pods.selector, dialect: .kubernetes)
    }

    /// A namespace LabelSelector, or the early v1alpha1 NamespaceSet `{namespaceSelector: ...}`. Its relative
    /// forms (`sameLabels`, `notSameLabels`, `notSelf`) were dropped upstream and are refused, not guessed.
    private static func namespaceSet(_ field: Field) throws(ResourceError) -> Selector {
        let object = try field.looseObject()
        if let relative = ["sameLabels", "notSameLabels", "notSelf"].first(where: { object.has($0) }) {
            throw field.error(
                .invalidValue,
                "\(relative) (an early v1alpha1 NamespaceSet) is not supported; select namespaces by labels instead"
            )
        }
        if let selector = object["namespaceSelector"] {
            _ = try field.object(known: ["namespaceSelector"])
            return try selector.labelSelector().selector
        }
        return try field.labelSelector().selector
    }

    private static func rules(
        _ field: Field?,
        direction: TrafficDirection,
        flavor: Flavor
    ) throws(ResourceError) -> [PolicyRule] {
        var result: [PolicyRule] = []
        let peersKey = direction == .ingress ? "from" : "to"
        let portsKey = flavor == .cluster ? "protocols" : "ports"
        for (index, item) in (try field?.list() ?? []).enumerated() {
            let rule = try item.object(known: ["name", "action", peersKey, portsKey])
            let actionField = try rule.required("action")
            let actionText = try actionField.string()
            guard var action = flavor.actions[actionText] else {
                let allowed = flavor.actions.keys.sorted().joined(separator: ", ")
                throw actionField.error(.invalidValue, "unknown action \"\(actionText)\" (want one of \(allowed))")
            }
            let peerFields = try rule.required(peersKey).list()
            guard !peerFields.isEmpty else {
                throw rule.field.error(.missingField, "\(peersKey) needs at least one peer")
            }
            var peers: [Peer] = []
            var failClosed = false
            for peerField in peerFields {
                if let peer = try peer(peerField, direction: direction) {
                    peers.append(peer)
                } else {
                    failClosed = true
                }
            }
            var ports: [PortMatch] = []
            for portField in try rule[portsKey]?.list() ?? [] {
                ports.append(try flavor == .cluster ? protocolPort(portField) : adminPort(portField))
            }
            // A peer with no field set fails closed (the peer types' comments): in an Accept/Allow rule it
            // matches nothing; a Deny or Pass rule becomes "Deny all".
            if failClosed && action != .allow {
                action = .deny
                peers = []
                ports = []
            } else if failClosed && peers.isEmpty {
                peers = [.nothing]
            }
            let ruleMatch = PolicyRule(
                index: index,
                action: action,
                direction: direction,
                peers: peers,
                ports: ports,
                location: item.location
            )
            result.append(ruleMatch)
        }
        return result
    }

    /// A peer, or nil for one with no field set (which the caller fails closed).
    private static func peer(_ field: Field, direction: TrafficDirection) throws(ResourceError) -> Peer? {
        let known: Set<String> =
            direction == .ingress
            ? ["namespaces", "pods"] : ["namespaces", "pods", "nodes", "networks", "domainNames"]
        let object = try field.object(known: known)
        let present = known.filter { object[$0] != nil }
        guard present.count == 1, let key = present.first else {
            if present.isEmpty { return nil }
            throw field.error(.invalidValue, "a peer needs exactly one of \(known.sorted().joined(separator: ", "))")
        }
        let value = object[key]!
        switch key {
        case "namespaces":
            return Peer(
                members: MemberQuery(scope: .namespaces(try namespaceSet(value)), selector: .all, dialect: .kubernetes)
            )
        case "pods":
            return Peer(members: try podsQuery(value))
        case "networks":
            let nets = try value.list().map { item throws(ResourceError) in try item.cidr() }
            guard !nets.isEmpty else { throw value.error(.missingField, "networks needs at least one CIDR") }
            return Peer(nets: nets)
        default:
            // nodes and domainNames name endpoints this engine does not know: they match nothing here.
            return .nothing
        }
    }

    /// v1alpha1 `ports[]`: portNumber, namedPort or portRange.
    private static func adminPort(_ field: Field) throws(ResourceError) -> PortMatch {
        let object = try field.object(known: ["portNumber", "namedPort", "portRange"])
        if let number = object["portNumber"] {
            let port = try number.object(known: ["protocol", "port"])
            let proto = try port["protocol"]?.kubernetesProtocol() ?? .tcp
            return PortMatch(protocol: proto, ports: .range(PortRange(try port.required("port").portNumber())))
        }
        if let named = object["namedPort"] {
            return PortMatch(protocol: nil, ports: .named(try named.name()))
        }
        if let rangeField = object["portRange"] {
            let (range, body) = try rangeField.portRange(extra: ["protocol"])
            return PortMatch(protocol: try body["protocol"]?.kubernetesProtocol() ?? .tcp, ports: .range(range))
        }
        throw field.error(.invalidValue, "a port needs one of portNumber, namedPort or portRange")
    }

    /// v1alpha2/v1beta1 `protocols[]`: tcp/udp/sctp with an optional destinationPort, or destinationNamedPort.
    private static func protocolPort(_ field: Field) throws(ResourceError) -> PortMatch {
        let object = try field.object(known: ["tcp", "udp", "sctp", "destinationNamedPort"])
        if let named = object["destinationNamedPort"] {
            return PortMatch(protocol: nil, ports: .named(try named.name()))
        }
        for (key, proto) in [("tcp", IPProtocol.tcp), ("udp", .udp), ("sctp", .sctp)] {
            guard let entry = object[key] else { continue }
            let body = try entry.object(known: ["destinationPort"])
            guard let portField = body["destinationPort"] else { return PortMatch(protocol: proto, ports: .any) }
            let port = try portField.object(known: ["number", "range"])
            if let number = port["number"] {
                return PortMatch(protocol: proto, ports: .range(PortRange(try number.portNumber())))
            }
            if let rangeField = port["range"] {
                return PortMatch(protocol: proto, ports: .range(try rangeField.portRange().range))
            }
            throw portField.error(.invalidValue, "destinationPort needs number or range")
        }
        throw field.error(.invalidValue, "a protocol entry needs one of tcp, udp, sctp or destinationNamedPort")
    }
}
