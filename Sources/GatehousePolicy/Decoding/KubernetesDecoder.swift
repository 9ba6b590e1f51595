import GatehouseCore

/// Decodes core Kubernetes objects (Namespace, Pod, ServiceAccount, Service, EndpointSlice) and `networking.k8s.io/v1`
/// NetworkPolicy, following the field comments of `kubernetes/api` `networking/v1/types.go`.
enum KubernetesDecoder {
    static let objectFields: Set<String> = ["apiVersion", "kind", "metadata", "spec", "status"]

    static func namespace(_ object: FieldObject) throws(ResourceError) -> Namespace {
        let metadata = try object.required("metadata").metadata(namespaced: false)
        return Namespace(name: metadata.name, labels: metadata.labels)
    }

    static func serviceAccount(_ object: FieldObject) throws(ResourceError) -> ServiceAccount {
        let metadata = try object.required("metadata").metadata(namespaced: true)
        return ServiceAccount(namespace: metadata.namespace ?? "default", name: metadata.name, labels: metadata.labels)
    }

    static func pod(_ object: FieldObject) throws(ResourceError) -> Endpoint {
        let metadata = try object.required("metadata").metadata(namespaced: true)
        let spec = try object["spec"]?.looseObject()
        var ports: [Endpoint.NamedPort] = []
        for key in ["containers", "initContainers"] {
            for container in try spec?[key]?.list() ?? [] {
                for portField in try container.looseObject()["ports"]?.list() ?? [] {
                    if let port = try portField.namedContainerPort() { ports.append(port) }
                }
            }
        }
        var addresses: [IPAddress] = []
        if let status = try object["status"]?.looseObject() {
            var texts: [Field] = []
            if let single = status["podIP"] { texts.append(single) }
            for item in try status["podIPs"]?.list() ?? [] {
                if let ip = try item.looseObject()["ip"] { texts.append(ip) }
            }
            for field in texts {
                let address = try field.ipAddress()
                if !addresses.contains(address) { addresses.append(address) }
            }
        }
        var serviceAccount = "default"
        if let field = spec?["serviceAccountName"] ?? spec?["serviceAccount"] { serviceAccount = try field.string() }
        return Endpoint(
            namespace: metadata.namespace,
            name: metadata.name,
            labels: metadata.labels,
            addresses: addresses,
            ports: ports,
            serviceAccount: serviceAccount,
            hostNetwork: try spec?["hostNetwork"]?.bool() ?? false
        )
    }

    static func service(_ object: FieldObject) throws(ResourceError) -> KubernetesService {
        let metadata = try object.required("metadata").metadata(namespaced: true)
        let spec = try object["spec"]?.looseObject()
        var ports: [KubernetesService.Port] = []
        for item in try spec?["ports"]?.list() ?? [] {
            let port = try item.looseObject()
            var targetNumber: UInt16?
            var targetName: String?
            if let target = port["targetPort"] {
                if target.isPlainInteger {
                    targetNumber = try target.portNumber()
                } else {
                    targetName = try target.name()
                }
            }
            ports.append(
                KubernetesService.Port(
                    port: try port.required("port").portNumber(),
                    targetNumber: targetNumber,
                    targetName: targetName,
                    protocol: try port["protocol"]?.kubernetesProtocol() ?? .tcp
                )
            )
        }
        let selector = try spec?["selector"]?.stringMap()
        return KubernetesService(
            namespace: metadata.namespace ?? "default",
            name: metadata.name,
            selector: selector,
            ports: ports
        )
    }

    static func endpointSlice(_ object: FieldObject) throws(ResourceError) -> EndpointSlice {
        let metadataField = try object.required("metadata")
        let metadata = try metadataField.metadata(namespaced: true)
        guard let serviceName = metadata.labels["kubernetes.io/service-name"] else {
            throw metadataField.error(.missingField, "an EndpointSlice needs the label kubernetes.io/service-name")
        }
        var addresses: [IPAddress] = []
        for item in try object["endpoints"]?.list() ?? [] {
            let endpoint = try item.looseObject()
            // Endpoints known not to be ready receive no traffic; an unknown condition counts as ready.
            if let conditions = try endpoint["conditions"]?.looseObject(), try conditions["ready"]?.bool() == false {
                continue
            }
            for addressField in try endpoint["addresses"]?.list() ?? [] {
                addresses.append(try addressField.ipAddress())
            }
        }
        var ports: [EndpointSlice.Port] = []
        for item in try object["ports"]?.list() ?? [] {
            let port = try item.looseObject()
            ports.append(
                EndpointSlice.Port(
                    port: try port["port"]?.portNumber(),
                    protocol: try port["protocol"]?.kubernetesProtocol() ?? .tcp
                )
            )
        }
        return EndpointSlice(
            namespace: metadata.namespace ?? "default",
            name: metadata.name,
            serviceName: serviceName,
            addresses: addresses,
            ports: ports
        )
    }

    static let specFields: Set<String> = ["podSelector", "policyTypes", "ingress", "egress"]

    /// A NetworkPolicy, or a Calico StagedKubernetesNetworkPolicy when `staged` (its spec adds `stagedAction`).
    static func networkPolicy(_ object: FieldObject, staged: Bool) throws(ResourceError) -> Policy {
        let metadata = try object.required("metadata").metadata(namespaced: true)
        let namespace = metadata.namespace ?? "default"
        // The spec is optional: an empty one selects every pod of the namespace and denies their ingress.
        let spec =
            try object.entry("spec")?.object(known: staged ? specFields.union(["stagedAction"]) : specFields)
            ?? FieldObject(field: object.field, pairs: [])
        // `podSelector: null` is defaulted to `{}` by the API server.
        let podSelector = try spec["podSelector"]?.labelSelector() ?? .everything
        let stagedAction = staged ? try CalicoDecoder.stagedAction(spec["stagedAction"]) : nil

        let ingress = try rules(spec["ingress"], direction: .ingress, namespace: namespace)
        let egress = try rules(spec["egress"], direction: .egress, namespace: namespace)

        // SetDefaults_NetworkPolicy (pkg/apis/networking/v1/defaults.go): when policyTypes is empty, Ingress,
        // plus Egress when there is at least one egress rule.
        var types = try spec["policyTypes"]?.trafficDirections() ?? []
        if types.isEmpty {
            types = egress.isEmpty ? [.ingress] : [.ingress, .egress]
        }
        let subject = MemberQuery(scope: .namespace(namespace), selector: podSelector.selector, dialect: .kubernetes)
        return Policy(
            kind: staged ? .stagedKubernetesNetworkPolicy : .kubernetesNetworkPolicy,
            namespace: namespace,
            name: metadata.name,
            tier: Tier.default.name,
            order: 1_000,
            sortName: "knp.default.\(metadata.name)",
            stagedAction: stagedAction,
            subject: subject,
            types: types,
            ingress: ingress,
            egress: egress,
            location: object.field.location
        )
    }

    /// The rules of one direction: each allows its peers (`from` or `to`, ORed) on its ports.
    private static func rules(
        _ field: Field?,
        direction: TrafficDirection,
        namespace: String
    ) throws(ResourceError) -> [PolicyRule] {
        let peersKey = direction == .ingress ? "from" : "to"
        var rules: [PolicyRule] = []
        for (index, item) in (try field?.list() ?? []).enumerated() {
            let rule = try item.object(known: [peersKey, "ports"])
            let peers = try (rule[peersKey]?.list() ?? []).map { field throws(ResourceError) in
                try peer(field, namespace: namespace)
            }
            let ports = try (rule["ports"]?.list() ?? []).map { field throws(ResourceError) in try port(field) }
            rules.append(
                PolicyRule(
                    index: index,
                    action: .allow,
                    direction: direction,
                    peers: peers,
                    ports: ports,
                    location: item.location
                )
            )
        }
        return rules
    }

    /// One `from`/`to` entry: fields inside it are ANDed.
    private static func peer(_ field: Field, namespace: String) throws(ResourceError) -> Peer {
        let object = try field.object(known: ["podSelector", "namespaceSelector", "ipBlock"])
        if let ipBlock = object["ipBlock"] {
            guard object["podSelector"] == nil && object["namespaceSelector"] == nil else {
                throw field.error(.invalidValue, "ipBlock may not be combined with podSelector or namespaceSelector")
            }
            let block = try ipBlock.object(known: ["cidr", "except"])
            let cidr = try block.required("cidr").cidr()
            var except: [CIDR] = []
            for item in try block["except"]?.list() ?? [] {
                let inner = try item.cidr()
                guard cidr.contains(inner), inner.prefixLength > cidr.prefixLength else {
                    throw item.error(.invalidCIDR, "except \(inner) must lie strictly inside cidr \(cidr)")
                }
                except.append(inner)
            }
            return Peer(nets: [cidr], notNets: except)
        }
        let podSelector = try object["podSelector"]?.labelSelector()
        let namespaceSelector = try object["namespaceSelector"]?.labelSelector()
        guard podSelector != nil || namespaceSelector != nil else {
            throw field.error(.missingField, "a peer needs podSelector, namespaceSelector or ipBlock")
        }
        let scope: MemberQuery.Scope = namespaceSelector.map { .namespaces($0.selector) } ?? .namespace(namespace)
        let selector = podSelector?.selector ?? .all
        return Peer(members: MemberQuery(scope: scope, selector: selector, dialect: .kubernetes))
    }

    private static func port(_ field: Field) throws(ResourceError) -> PortMatch {
        let object = try field.object(known: ["protocol", "port", "endPort"])
        let proto = try object["protocol"]?.kubernetesProtocol() ?? .tcp
        guard let portField = object["port"] else {
            if let endPort = object["endPort"] {
                throw endPort.error(.invalidPort, "endPort requires a numeric port")
            }
            return PortMatch(protocol: proto, ports: .any)
        }
        if portField.isPlainInteger {
            let port = try portField.portNumber()
            guard let endField = object["endPort"] else {
                return PortMatch(protocol: proto, ports: .range(PortRange(port)))
            }
            let end = try endField.portNumber()
            guard end >= port else { throw endField.error(.invalidPort, "endPort \(end) is below port \(port)") }
            return PortMatch(protocol: proto, ports: .range(PortRange(port, end)))
        }
        let name = try portField.kubernetesPortName()
        if let endPort = object["endPort"] {
            throw endPort.error(.invalidPort, "endPort requires a numeric port, not the named port \"\(name)\"")
        }
        return PortMatch(protocol: proto, ports: .named(name))
    }
}
