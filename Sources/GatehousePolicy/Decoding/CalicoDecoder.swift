import GatehouseCore

/// Decodes `projectcalico.org/v3` resources, following `api/pkg/apis/projectcalico/v3/` and the rule
/// conversion in `libcalico-go/lib/backend/syncersv1/updateprocessors/rules.go`.
enum CalicoDecoder {
    static let policyFields: Set<String> = [
        "order", "tier", "selector", "types", "ingress", "egress", "serviceAccountSelector", "performanceHints",
    ]
    static let globalPolicyFields: Set<String> = policyFields.union([
        "namespaceSelector", "doNotTrack", "preDNAT", "applyOnForward",
    ])
    static let ruleFields: Set<String> = [
        "action", "ipVersion", "protocol", "notProtocol", "icmp", "notICMP", "source", "destination", "http",
        "metadata",
    ]
    static let entityFields: Set<String> = [
        "nets", "notNets", "selector", "notSelector", "namespaceSelector", "serviceAccounts", "services", "ports",
        "notPorts",
    ]

    static func tier(_ object: FieldObject) throws(ResourceError) -> Tier {
        let metadata = try object.required("metadata").metadata(namespaced: false)
        let spec = try object["spec"]?.object(known: ["order", "defaultAction"])
        let order = try spec?["order"]?.number()
        var action = RuleAction.deny
        if let field = spec?["defaultAction"] {
            let text = try field.string()
            guard let parsed = RuleAction(rawValue: text), parsed == .deny || parsed == .pass else {
                throw field.error(.invalidValue, "defaultAction must be Deny or Pass, not \"\(text)\"")
            }
            action = parsed
        }
        return Tier(name: metadata.name, order: order, defaultAction: action, location: object.field.location)
    }

    static func networkSet(_ object: FieldObject, global: Bool) throws(ResourceError) -> NetworkSet {
        let metadata = try object.required("metadata").metadata(namespaced: !global)
        let spec = try object["spec"]?.object(known: ["nets", "allowedEgressDomains"])
        var nets: [CIDR] = []
        for item in try spec?["nets"]?.list() ?? [] { nets.append(try item.calicoNet()) }
        return NetworkSet(
            namespace: metadata.namespace,
            name: metadata.name,
            labels: metadata.labels,
            nets: nets,
            location: object.field.location
        )
    }

    static func stagedAction(_ field: Field?) throws(ResourceError) -> StagedAction {
        guard let field else { return .set }
        let text = try field.string()
        guard let action = StagedAction(rawValue: text) else {
            throw field.error(.invalidValue, "stagedAction must be Set, Delete, Learn or Ignore, not \"\(text)\"")
        }
        return action
    }

    /// A NetworkPolicy or GlobalNetworkPolicy, staged or not.
    static func policy(
        _ object: FieldObject,
        kind: PolicyKind,
        diagnostics: DecodeDiagnostics
    ) throws(ResourceError) -> Policy {
        let global = kind == .globalNetworkPolicy || kind == .stagedGlobalNetworkPolicy
        let metadata = try object.required("metadata").metadata(namespaced: !global)
        let known = (global ? globalPolicyFields : policyFields).union(kind.isStaged ? ["stagedAction"] : [])
        // The spec is optional: an empty one applies to every endpoint in scope and denies their ingress.
        let spec = try object.entry("spec")?.object(known: known) ?? FieldObject(field: object.field, pairs: [])
        let stagedAction = kind.isStaged ? try stagedAction(spec["stagedAction"]) : nil
        let namespace = metadata.namespace

        let selector = try spec["selector"]?.optionalCalicoSelector() ?? .all
        let serviceAccountSelector = try spec["serviceAccountSelector"]?.optionalCalicoSelector()
        var scope: MemberQuery.Scope = namespace.map { .namespace($0) } ?? .cluster
        if global, let namespaceSelector = try spec["namespaceSelector"]?.optionalCalicoSelector(),
            !namespaceSelector.isAll
        {
            // global() selects non-namespaced endpoints (host endpoints), never pods.
            scope = namespaceSelector.mentionsGlobal ? .global : .namespaces(namespaceSelector)
        }
        for key in ["doNotTrack", "preDNAT"] where try spec[key]?.bool() == true {
            // Such policies apply to host endpoints only, which this engine does not model.
            diagnostics.warnings.append(
                spec[key]!.error(
                    .invalidValue,
                    "\(key) policies apply to host endpoints only; ignored for pods"
                )
            )
            scope = .global
        }
        let subject = MemberQuery(
            scope: scope,
            selector: selector,
            dialect: .calico,
            serviceAccountSelector: serviceAccountSelector
        )

        let ingress = try rules(
            spec["ingress"],
            context: RuleContext(namespace: namespace, direction: .ingress, diagnostics: diagnostics)
        )
        let egress = try rules(
            spec["egress"],
            context: RuleContext(namespace: namespace, direction: .egress, diagnostics: diagnostics)
        )
        var types: Set<TrafficDirection> = []
        if let typesField = spec["types"] {
            types = try typesField.trafficDirections()
        } else {
            // Calico: Ingress unless there are egress rules; both when there are both.
            if !ingress.isEmpty || egress.isEmpty { types.insert(.ingress) }
            if !egress.isEmpty { types.insert(.egress) }
        }
        let tier = try spec["tier"]?.name() ?? Tier.default.name
        return Policy(
            kind: kind,
            namespace: namespace,
            name: metadata.name,
            tier: tier,
            order: try spec["order"]?.number(),
            stagedAction: stagedAction,
            subject: subject,
            types: types,
            ingress: ingress,
            egress: egress,
            location: object.field.location
        )
    }

    private struct RuleContext {
        let namespace: String?
        let direction: TrafficDirection
        let diagnostics: DecodeDiagnostics
    }

    private static func rules(_ field: Field?, context: RuleContext) throws(ResourceError) -> [PolicyRule] {
        var result: [PolicyRule] = []
        for (index, item) in (try field?.list() ?? []).enumerated() {
            result.append(try rule(item, index: index, context: context))
        }
        return result
    }

    private static func rule(_ field: Field, index: Int, context: RuleContext) throws(ResourceError) -> PolicyRule {
        let object = try field.object(known: ruleFields)
        let actionField = try object.required("action")
        let actionText = try actionField.string()
        guard let action = RuleAction(rawValue: actionText) else {
            throw actionField.error(.invalidValue, "unknown action \"\(actionText)\" (want Allow, Deny, Pass or Log)")
        }
        let only = try object["protocol"].map { field throws(ResourceError) in try protocolValue(field) }
        let except = try object["notProtocol"].map { field throws(ResourceError) in try protocolValue(field) }
        var ipVersion: IPAddress.Family?
        if let versionField = object["ipVersion"] {
            let version = try versionField.int()
            guard let family = IPAddress.Family(rawValue: version) else {
                throw versionField.error(.invalidValue, "ipVersion must be 4 or 6, not \(version)")
            }
            ipVersion = family
        }
        let source = try entity(object["source"], context: context, far: context.direction == .ingress)
        let destination = try entity(object["destination"], context: context, far: context.direction == .egress)
        // Felix renders a rule only for the family of its CIDRs (felix/rules/policy.go FilterRuleToIPVersion);
        // mixing families in one rule is refused by Calico's validator.
        let families = Set(
            (source.peers + destination.peers).flatMap { ($0.nets ?? []) + $0.notNets }.map(\.family)
        )
        if families.count > 1 {
            throw field.error(.invalidCIDR, "a rule may not mix IPv4 and IPv6 CIDRs in its nets and notNets")
        }
        if let family = families.first {
            if let version = ipVersion, version != family {
                throw field.error(
                    .invalidCIDR,
                    "the rule's CIDRs are IPv\(family.rawValue) but ipVersion is \(version.rawValue)"
                )
            }
            ipVersion = family
        }
        for (entityField, match) in [(object["source"], source), (object["destination"], destination)] {
            let ports = match.ports + match.notPorts
            guard !ports.isEmpty, only != .tcp && only != .udp && only != .sctp else { continue }
            // Calico's validator (validateRule) lets a rule without a protocol have named ports: Felix
            // matches each on the protocol the pod's container port of that name declares. A number or a
            // range has no protocol of its own, and a named port under ICMP has none to match.
            if only == nil, ports.allSatisfy({ if case .named = $0.ports { true } else { false } }) { continue }
            throw (entityField ?? field).error(
                .invalidPort,
                only == nil
                    ? "a numeric port or port range needs the rule's protocol to be TCP, UDP or SCTP"
                    : "ports and notPorts need the rule's protocol to be TCP, UDP or SCTP"
            )
        }
        let hasHTTP = object["http"] != nil
        if hasHTTP {
            context.diagnostics.warnings.append(
                object["http"]!.error(
                    .invalidValue,
                    "http match needs Calico's application layer; judged at connection level only"
                )
            )
        }
        if let icmp = object["icmp"] ?? object["notICMP"], only != .icmp && only != .icmpv6 {
            throw icmp.error(.invalidProtocol, "icmp and notICMP need protocol ICMP or ICMPv6")
        }
        return PolicyRule(
            index: index,
            action: action,
            protocols: ProtocolMatch(only: only, except: except),
            ipVersion: ipVersion,
            source: source,
            destination: destination,
            hasApplicationLayerMatch: hasHTTP,
            location: field.location
        )
    }

    private static func protocolValue(_ field: Field) throws(ResourceError) -> IPProtocol {
        if field.isPlainInteger {
            let number = try field.int()
            guard (1...255).contains(number) else {
                throw field.error(.invalidProtocol, "protocol number \(number) is outside 1-255")
            }
            return IPProtocol(number: UInt8(number))
        }
        let text = try field.string()
        guard let proto = IPProtocol(name: text) else {
            throw field.error(
                .invalidProtocol,
                "unknown protocol \"\(text)\" (want TCP, UDP, SCTP, ICMP, ICMPv6, UDPLite or 1-255)"
            )
        }
        return proto
    }

    /// One side of a rule (an EntityRule); `far` is the peer's side (an ingress rule's source, an egress rule's
    /// destination). In a namespaced policy, using any selector field (notSelector included) confines the
    /// rule's positive selection to the policy's namespace unless a namespaceSelector says otherwise;
    /// `namespaceSelector: global()` confines it to non-namespaced sets; notSelector itself is never confined.
    private static func entity(_ field: Field?, context: RuleContext, far: Bool) throws(ResourceError) -> EntityMatch {
        guard let field else { return .any }
        let object = try field.object(known: entityFields)
        if let services = object["services"] {
            // Calico's validator: services only in an ingress rule's source or an egress rule's destination.
            guard far else {
                throw services.error(
                    .invalidValue,
                    "services may appear only in an ingress source or an egress destination"
                )
            }
            return try serviceEntity(services, object: object, context: context)
        }
        // rules.go uses each selector field only when it is not the empty string.
        let selector = try object["selector"]?.optionalCalicoSelector()
        let notSelector = try object["notSelector"]?.optionalCalicoSelector()
        let namespaceSelector = try object["namespaceSelector"]?.optionalCalicoSelector()
        var serviceAccountNames: [String]?
        var serviceAccountSelector: Selector?
        if let accounts = object["serviceAccounts"] {
            let accountObject = try accounts.object(known: ["names", "selector"])
            serviceAccountNames = try accountObject["names"]?.stringList()
            serviceAccountSelector = try accountObject["selector"]?.optionalCalicoSelector()
        }
        // rules.go GetEntityRuleSelector: (namespace part) && (service accounts) && (selector), where the
        // namespace part is the policy's own namespace in a NetworkPolicy and nothing in a global policy.
        let scope: MemberQuery.Scope
        if let namespaceSelector, namespaceSelector.mentionsGlobal {
            scope = .global
        } else if let namespaceSelector {
            scope = .namespaces(namespaceSelector)
        } else {
            scope = context.namespace.map { .namespace($0) } ?? .cluster
        }
        var peer = Peer()
        let selects =
            selector != nil || namespaceSelector != nil || serviceAccountNames != nil
            || serviceAccountSelector != nil || (notSelector != nil && context.namespace != nil)
        if selects {
            peer.members = MemberQuery(
                scope: scope,
                selector: selector ?? .all,
                dialect: .calico,
                serviceAccountNames: serviceAccountNames,
                serviceAccountSelector: serviceAccountSelector
            )
        }
        // notSelector is used as written: neither namespaced nor combined with the other criteria.
        if let notSelector {
            peer.notMembers = MemberQuery(scope: .cluster, selector: notSelector, dialect: .calico)
        }
        if let nets = object["nets"] {
            peer.nets = try nets.list().map { item throws(ResourceError) in try item.calicoNet() }
        }
        peer.notNets = try (object["notNets"]?.list() ?? []).map { item throws(ResourceError) in try item.calicoNet() }
        let hasPeer = peer.members != nil || peer.notMembers != nil || peer.nets != nil || !peer.notNets.isEmpty
        let ports = try (object["ports"]?.list() ?? []).map { item throws(ResourceError) in try port(item) }
        let notPorts = try (object["notPorts"]?.list() ?? []).map { item throws(ResourceError) in try port(item) }
        return EntityMatch(peers: hasPeer ? [peer] : [], ports: ports, notPorts: notPorts)
    }

    /// `services: {name, namespace}`: exclusive with the selectors, nets, service accounts and ports.
    private static func serviceEntity(
        _ field: Field,
        object: FieldObject,
        context: RuleContext
    ) throws(ResourceError) -> EntityMatch {
        let others = [
            "nets", "notNets", "selector", "notSelector", "namespaceSelector", "serviceAccounts", "ports", "notPorts",
        ]
        if let clash = others.first(where: { object[$0] != nil }) {
            throw field.error(.invalidValue, "services cannot be combined with \(clash)")
        }
        let service = try field.object(known: ["name", "namespace"])
        let name = try service.required("name").name()
        guard let namespace = try service["namespace"]?.name() ?? context.namespace else {
            throw field.error(.missingField, "services in a global policy needs a namespace")
        }
        return EntityMatch(peers: [Peer(service: ServiceReference(namespace: namespace, name: name))])
    }

    /// A Calico port: a number, a `"min:max"` range, or a named port.
    static func port(_ field: Field) throws(ResourceError) -> PortMatch {
        if field.isPlainInteger {
            let number = try field.int()
            guard (1...65535).contains(number) else {
                throw field.error(.invalidPort, "port \(number) is outside 1-65535")
            }
            return PortMatch(protocol: nil, ports: .range(PortRange(UInt16(number))))
        }
        let text = try field.string()
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCIIDigit) }) {
            guard parts.count <= 2, let low = Int(parts[0]), let high = Int(parts[parts.count - 1]),
                (1...65535).contains(low), (1...65535).contains(high)
            else { throw field.error(.invalidPort, "invalid port \"\(text)\" (want N or MIN:MAX within 1-65535)") }
            guard low <= high else {
                throw field.error(.invalidPort, "invalid port range \"\(text)\": the minimum is above the maximum")
            }
            return PortMatch(protocol: nil, ports: .range(PortRange(UInt16(low), UInt16(high))))
        }
        // Calico's validator takes Kubernetes' rule for port names (IANA service names).
        return PortMatch(protocol: nil, ports: .named(try field.kubernetesPortName()))
    }
}
