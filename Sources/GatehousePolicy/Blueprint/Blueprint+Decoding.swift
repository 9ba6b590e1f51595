import GatehouseCore

extension Blueprint {
    /// Reads a blueprint (`apiVersion: gatehouse.dev/v1alpha1`, `kind: Blueprint`). Unknown fields are
    /// errors: a misspelt key would silently allow or deny the wrong thing.
    ///
    /// - Parameters:
    ///   - gateway: the gateway's own configuration: its upstreams in the cluster become model servers
    ///     only the gateway reaches, the others its egress, and its port the gateway's when none is given.
    ///   - cluster: where those upstreams' Services are looked up.
    public static func decode(
        text: String,
        file: String,
        gateway configuration: BlueprintGateway? = nil,
        cluster: Cluster? = nil
    ) throws(ResourceErrors) -> Blueprint {
        let diagnostics = DecodeDiagnostics()
        do {
            let documents = try ResourceValue.documents(in: text, file: file)
            guard documents.count == 1, let document = documents.first else {
                throw ResourceError(
                    .invalidValue,
                    "a blueprint file holds one document, found \(documents.count)",
                    at: SourceLocation(file: file, line: 1, column: 1)
                )
            }
            let blueprint = try decode(
                Field(value: document, file: file, diagnostics: diagnostics),
                gateway: configuration,
                cluster: cluster
            )
            if !diagnostics.warnings.isEmpty { throw ResourceErrors(diagnostics.warnings) }
            return blueprint
        } catch let error as ResourceErrors {
            throw error
        } catch let error as ResourceError {
            throw ResourceErrors(diagnostics.warnings + [error])
        } catch {
            throw ResourceErrors([
                ResourceError(.syntax, "\(error)", at: SourceLocation(file: file, line: 1, column: 1))
            ])
        }
    }

    private static func decode(
        _ root: Field,
        gateway configuration: BlueprintGateway?,
        cluster: Cluster?
    ) throws(ResourceError) -> Blueprint {
        let object = try root.object(known: ["apiVersion", "kind", "metadata", "spec"])
        let apiVersion = try object.required("apiVersion").string()
        let kind = try object.required("kind").string()
        guard apiVersion == "gatehouse.dev/v1alpha1", kind == "Blueprint" else {
            throw root.error(.unknownKind, "expected apiVersion gatehouse.dev/v1alpha1 and kind Blueprint")
        }
        let metadata = try object.required("metadata").object(known: ["name"])
        let name = try metadata.required("name").name()
        let spec = try object.required("spec").object(known: [
            "namespaces", "gateway", "models", "apps", "flows", "egress", "dns",
        ])
        let namespacesField = try spec.required("namespaces")
        var namespaces: [String] = []
        for item in try namespacesField.list() { namespaces.append(try item.name()) }
        guard !namespaces.isEmpty else { throw namespacesField.error(.invalidValue, "name at least one namespace") }

        var workloads: [Workload] = []
        var connections: [Connection] = []
        func add(_ workload: Workload, at field: Field) throws(ResourceError) {
            if workloads.contains(where: { $0.name == workload.name }) {
                throw field.error(.duplicate, "two workloads are named \"\(workload.name)\"")
            }
            if workload.role != .client && !namespaces.contains(workload.namespace) {
                throw field.error(
                    .invalidValue,
                    "namespace \(workload.namespace) is not one of spec.namespaces: the \(workload.role.rawValue) must live in an AI namespace"
                )
            }
            workloads.append(workload)
        }

        let gatewayField = try spec.required("gateway")
        let gatewayObject = try gatewayField.object(known: ["namespace", "labels", "ports", "clients"])
        let gateway = try workload(
            gatewayObject,
            name: "gateway",
            role: .gateway,
            defaultNamespace: namespaces[0],
            defaultPorts: configuration.map { [$0.listenPort] }
        )
        try add(gateway, at: gatewayField)
        for field in try gatewayObject["clients"]?.list() ?? [] {
            let client = try workload(
                try field.object(known: ["name", "namespace", "labels"]),
                name: nil,
                role: .client,
                defaultNamespace: namespaces[0]
            )
            try add(client, at: field)
            connections.append(Connection(from: client.name, to: gateway.name))
        }
        for field in try spec["models"]?.list() ?? [] {
            let model = try workload(
                try field.object(known: ["name", "namespace", "labels", "ports"]),
                name: nil,
                role: .model,
                defaultNamespace: namespaces[0]
            )
            try add(model, at: field)
            // Only the gateway reaches a model server.
            connections.append(Connection(from: gateway.name, to: model.name))
        }
        for field in try spec["apps"]?.list() ?? [] {
            let app = try workload(
                try field.object(known: ["name", "namespace", "labels", "ports"]),
                name: nil,
                role: .app,
                defaultNamespace: namespaces[0]
            )
            try add(app, at: field)
        }
        for field in try spec["flows"]?.list() ?? [] {
            let flow = try field.object(known: ["from", "to"])
            let from = try flow.required("from")
            let to = try flow.required("to")
            let connection = Connection(from: try from.string(), to: try to.string())
            guard workloads.contains(where: { $0.name == connection.from }) else {
                throw from.error(.unknownReference, "no workload is named \"\(connection.from)\"")
            }
            guard let target = workloads.first(where: { $0.name == connection.to }) else {
                throw to.error(.unknownReference, "no workload is named \"\(connection.to)\"")
            }
            if target.role == .model {
                throw to.error(
                    .invalidValue,
                    "only the gateway reaches a model server; send \(connection.from) to the gateway"
                )
            }
            if target.ports.isEmpty {
                throw to.error(.invalidValue, "\(connection.to) accepts no connections (it has no ports)")
            }
            if !connections.contains(connection) { connections.append(connection) }
        }
        var egress: [Egress] = []
        for field in try spec["egress"]?.list() ?? [] {
            let rule = try field.object(known: ["from", "fqdns", "cidrs", "ports"])
            let fromField = try rule.required("from")
            let from = try fromField.string()
            guard let source = workloads.first(where: { $0.name == from }), source.role != .client else {
                throw fromField.error(.unknownReference, "no workload in the AI namespaces is named \"\(from)\"")
            }
            let fqdnsField = rule["fqdns"]
            let fqdns = try fqdnsField?.stringList() ?? []
            for name in fqdns where !isHostName(name) {
                throw (fqdnsField ?? field).error(.invalidValue, "\"\(name)\" is not a host name")
            }
            var cidrs: [CIDR] = []
            for item in try rule["cidrs"]?.list() ?? [] { cidrs.append(try item.cidr()) }
            guard !fqdns.isEmpty || !cidrs.isEmpty else {
                throw field.error(.missingField, "give fqdns or cidrs: egress to anywhere is never declared")
            }
            let ports = try self.ports(rule.required("ports"))
            egress.append(Egress(from: from, fqdns: fqdns, cidrs: cidrs, ports: ports))
        }
        if let configuration {
            try include(
                configuration,
                gateway: gateway,
                namespaces: namespaces,
                cluster: cluster,
                workloads: &workloads,
                connections: &connections,
                egress: &egress
            )
        }
        var dns = (namespace: "kube-system", labels: ["k8s-app": "kube-dns"])
        if let field = spec["dns"] {
            let object = try field.object(known: ["namespace", "labels"])
            dns = (try object.required("namespace").name(), try object.required("labels").stringMap())
        }
        return Blueprint(
            name: name,
            namespaces: namespaces,
            workloads: workloads,
            connections: connections,
            egress: egress,
            dns: dns
        )
    }

    /// Adds the gateway's upstreams: a Service's pods become a model server (or give an already declared
    /// one their port), anything outside the cluster the gateway's egress, unless a rule already allows it.
    private static func include(
        _ configuration: BlueprintGateway,
        gateway: Workload,
        namespaces: [String],
        cluster: Cluster?,
        workloads: inout [Workload],
        connections: inout [Connection],
        egress: inout [Egress]
    ) throws(ResourceError) {
        for upstream in configuration.upstreams {
            switch try configuration.target(of: upstream, gatewayNamespace: gateway.namespace, cluster: cluster) {
            case .pods(let service, let namespace, let labels, let port):
                guard namespaces.contains(namespace) else {
                    throw configuration.error(upstream, "is in namespace \(namespace), not one of spec.namespaces")
                }
                if let index = workloads.firstIndex(where: {
                    $0.role == .model && $0.namespace == namespace && $0.labels == labels
                }) {
                    let model = workloads[index]
                    if !model.ports.contains(port) {
                        workloads[index] = Workload(
                            name: model.name,
                            role: .model,
                            namespace: namespace,
                            labels: labels,
                            ports: model.ports + [port]
                        )
                    }
                } else {
                    if workloads.contains(where: { $0.name == service }) {
                        throw configuration.error(
                            upstream,
                            "leads to Service \(service), and another workload of the blueprint has that name"
                        )
                    }
                    workloads.append(
                        Workload(name: service, role: .model, namespace: namespace, labels: labels, ports: [port])
                    )
                    connections.append(Connection(from: gateway.name, to: service))
                }
            case .outside(let fqdn, let cidr, let port):
                let covered = egress.contains { rule in
                    guard rule.from == gateway.name, rule.ports.contains(port) else { return false }
                    if let fqdn { return rule.fqdns.contains(fqdn) }
                    return cidr.map { address in rule.cidrs.contains { $0.contains(address) } } ?? false
                }
                if !covered {
                    egress.append(
                        Egress(
                            from: gateway.name,
                            fqdns: fqdn.map { [$0] } ?? [],
                            cidrs: cidr.map { [$0] } ?? [],
                            ports: [port]
                        )
                    )
                }
            case .loopback:
                // A sidecar in the gateway's own pod: no network policy stands between them.
                break
            }
        }
    }

    private static func workload(
        _ object: FieldObject,
        name fixed: String?,
        role: Role,
        defaultNamespace: String,
        defaultPorts: [UInt16]? = nil
    ) throws(ResourceError) -> Workload {
        var name = fixed ?? ""
        if fixed == nil { name = try object.required("name").name() }
        let namespace = try object["namespace"]?.name() ?? defaultNamespace
        let labels = try object["labels"]?.stringMap() ?? [:]
        if labels.isEmpty && role != .client {
            throw object.field.error(
                .missingField,
                "labels: select the \(role.rawValue)'s pods; no labels would be every pod of the namespace"
            )
        }
        var ports: [UInt16] = []
        if role != .client {
            if let field = object["ports"] {
                ports = try self.ports(field)
            } else if let defaultPorts {
                ports = defaultPorts
            } else {
                ports = try self.ports(object.required("ports"))
            }
        }
        return Workload(name: name, role: role, namespace: namespace, labels: labels, ports: ports)
    }

    private static func ports(_ field: Field) throws(ResourceError) -> [UInt16] {
        var ports: [UInt16] = []
        for item in try field.list() {
            let port = try item.portNumber()
            if !ports.contains(port) { ports.append(port) }
        }
        guard !ports.isEmpty else { throw field.error(.invalidPort, "give at least one port") }
        return ports
    }

    /// An RFC 1123 host name, or one with a leading `*.` (one or more labels).
    private static func isHostName(_ text: String) -> Bool {
        let name = text.hasPrefix("*.") ? String(text.dropFirst(2)) : text
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && name.count <= 253
            && labels.allSatisfy { label in
                !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }
}
