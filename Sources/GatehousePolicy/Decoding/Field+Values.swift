import GatehouseCore

/// Decoders for the values several kinds share: selectors, CIDRs, protocols, ports, metadata.
extension Field {
    /// A Kubernetes `metav1.LabelSelector`.
    package func labelSelector() throws(ResourceError) -> LabelSelector {
        let object = try object(known: ["matchLabels", "matchExpressions"])
        var selector = LabelSelector(matchLabels: try object["matchLabels"]?.stringMap() ?? [:])
        for item in try object["matchExpressions"]?.list() ?? [] {
            let expression = try item.object(known: ["key", "operator", "values"])
            let key = try expression.required("key").name()
            let operatorField = try expression.required("operator")
            let text = try operatorField.string()
            guard let op = LabelSelector.Operator(rawValue: text) else {
                throw operatorField.error(
                    .invalidValue,
                    "unknown operator \"\(text)\" (want In, NotIn, Exists or DoesNotExist)"
                )
            }
            let values = try expression["values"]?.stringList() ?? []
            switch op {
            case .in, .notIn:
                guard !values.isEmpty else {
                    throw item.error(.invalidValue, "operator \(text) needs at least one value")
                }
            case .exists, .doesNotExist:
                guard values.isEmpty else { throw item.error(.invalidValue, "operator \(text) takes no values") }
            }
            selector.matchExpressions.append(LabelSelector.Requirement(key: key, operator: op, values: values))
        }
        return selector
    }

    /// A list of `Ingress` and `Egress` (Kubernetes `policyTypes`, Calico `types`).
    package func trafficDirections() throws(ResourceError) -> Set<TrafficDirection> {
        var directions: Set<TrafficDirection> = []
        for item in try list() {
            let text = try item.string()
            guard let direction = TrafficDirection(rawValue: text) else {
                throw item.error(.invalidValue, "unknown policy type \"\(text)\" (want Ingress or Egress)")
            }
            directions.insert(direction)
        }
        return directions
    }

    /// `{start, end}` (plus the keys in `extra`) as an inclusive range; start above end is an error.
    package func portRange(extra: Set<String> = []) throws(ResourceError) -> (range: PortRange, object: FieldObject) {
        let object = try object(known: extra.union(["start", "end"]))
        let start = try object.required("start").portNumber()
        let end = try object.required("end").portNumber()
        guard start <= end else { throw error(.invalidPort, "range start \(start) is above end \(end)") }
        return (PortRange(start, end), object)
    }

    /// A Calico selector expression; a syntax error points at the column inside the file.
    package func calicoSelector() throws(ResourceError) -> Selector {
        let text = try string()
        do {
            return try Selector(parsing: text)
        } catch {
            var quoted = false
            if case .scalar(_, let plain) = value.content { quoted = !plain }
            let column = value.column + error.column - 1 + (quoted ? 1 : 0)
            throw ResourceError(
                .invalidSelector,
                "invalid selector \"\(text.count > 80 ? text.prefix(77) + "..." : text)\": \(error.reason) "
                    + "(at column \(error.column) of the selector)",
                at: SourceLocation(file: file, line: value.line, column: column),
                field: path
            )
        }
    }

    /// A Calico selector where the empty string (or only spaces) means the field is unset, as Calico reads it.
    package func optionalCalicoSelector() throws(ResourceError) -> Selector? {
        if case .scalar(let text, _) = value.content, text.allSatisfy({ $0 == " " || $0 == "\t" }) { return nil }
        return try calicoSelector()
    }

    /// A container port (`{name, containerPort, protocol}`) as a named port; nil when it has no name, since
    /// only named ports matter to policies.
    package func namedContainerPort(known: Set<String>? = nil) throws(ResourceError) -> Endpoint.NamedPort? {
        let port: FieldObject
        if let known { port = try object(known: known) } else { port = try looseObject() }
        guard let name = try port["name"]?.string() else { return nil }
        return Endpoint.NamedPort(
            name: name,
            port: try port.required("containerPort").portNumber(),
            protocol: try port["protocol"]?.kubernetesProtocol() ?? .tcp
        )
    }

    /// An IPv4 or IPv6 address.
    package func ipAddress() throws(ResourceError) -> IPAddress {
        let text = try string()
        guard let address = IPAddress(text) else { throw error(.invalidValue, "invalid IP address \"\(text)\"") }
        return address
    }

    package func cidr() throws(ResourceError) -> CIDR {
        let text = try string()
        guard let cidr = CIDR(text) else {
            throw error(.invalidCIDR, "invalid CIDR \"\(text)\" (want ADDRESS/LENGTH, such as 10.0.0.0/8)")
        }
        return cidr
    }

    /// A Calico net: a CIDR, or a bare address meaning a single host.
    package func calicoNet() throws(ResourceError) -> CIDR {
        let text = try string()
        if let cidr = CIDR(text) { return cidr }
        if let address = IPAddress(text) { return CIDR(host: address) }
        throw error(.invalidCIDR, "invalid CIDR \"\(text)\" (want ADDRESS/LENGTH, such as 10.0.0.0/8)")
    }

    /// A Kubernetes protocol: exactly `TCP`, `UDP` or `SCTP`.
    package func kubernetesProtocol() throws(ResourceError) -> IPProtocol {
        let text = try string()
        switch text {
        case "TCP": return .tcp
        case "UDP": return .udp
        case "SCTP": return .sctp
        default: throw error(.invalidProtocol, "unsupported protocol \"\(text)\" (want TCP, UDP or SCTP)")
        }
    }

    /// A port number 1-65535.
    package func portNumber() throws(ResourceError) -> UInt16 {
        let number = try int()
        guard (1...65535).contains(number) else { throw error(.invalidPort, "port \(number) is outside 1-65535") }
        return UInt16(number)
    }

    /// A Kubernetes named port (IANA_SVC_NAME): 1-15 lowercase letters, digits and single dashes, with a letter.
    package func kubernetesPortName() throws(ResourceError) -> String {
        let name = try string()
        let bytes = Array(name.utf8)
        let valid =
            (1...15).contains(bytes.count)
            && bytes.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
            && bytes.contains { $0 >= 97 && $0 <= 122 }
            && bytes.first != 45 && bytes.last != 45 && !name.contains("--")
        guard valid else {
            throw error(
                .invalidPort,
                "invalid port name \"\(name)\" (1-15 lowercase letters, digits and '-', at least one letter, "
                    + "no leading, trailing or double '-')"
            )
        }
        return name
    }

    /// `metadata.name`, `metadata.namespace` and `metadata.labels` of an object.
    func metadata(namespaced: Bool) throws(ResourceError) -> ObjectMetadata {
        let object = try object(known: ObjectMetadata.knownFields)
        let name = try object.required("name").name()
        let namespace: String? = namespaced ? (try object["namespace"]?.name() ?? "default") : nil
        let labels = Labels(try object["labels"]?.stringMap() ?? [:])
        return ObjectMetadata(name: name, namespace: namespace, labels: labels)
    }
}
