import GatehouseCore

/// A conformance corpus (`shared/conformance/README.md`): cases of cluster state, policies and probes.
public struct ConformanceCorpus: Sendable {
    public struct Probe: Sendable {
        public let from: String
        public let to: String
        public let port: UInt16
        public let `protocol`: IPProtocol
        public let sourcePort: UInt16?
        public let expected: Verdict
        public let location: SourceLocation
    }

    public struct Case: Sendable {
        public let name: String
        public let source: String
        /// The case's state and policies, or the errors that make it unusable (its probes then fail).
        public let bundle: Result<ResourceBundle, ResourceErrors>
        public let probes: [Probe]
    }

    public let cases: [Case]

    /// Parses a corpus; a malformed corpus file (not its policies) is an error.
    public init(text: String, file: String) throws(ResourceError) {
        let documents = try ResourceValue.documents(in: text, file: file)
        guard let document = documents.first else {
            throw ResourceError(.missingField, "empty corpus", at: SourceLocation(file: file, line: 1, column: 1))
        }
        let root = try Field(value: document, file: file, diagnostics: DecodeDiagnostics())
            .object(known: ["meta", "cases"])
        var cases: [Case] = []
        for item in try root.required("cases").list() {
            cases.append(try ConformanceCorpus.decodeCase(item))
        }
        self.cases = cases
    }

    private static func decodeCase(_ field: Field) throws(ResourceError) -> Case {
        let object = try field.object(known: [
            "name", "source", "namespaces", "pods", "external", "policies", "probes", "step", "notes", "features",
            "serviceAccounts", "description",
        ])
        let name = try object.required("name").name()
        var probes: [Probe] = []
        for item in try object["probes"]?.list() ?? [] {
            let probe = try item.object(known: [
                "from", "to", "port", "protocol", "expected", "why", "srcPort", "step", "notes",
            ])
            let expectedField = try probe.required("expected")
            guard let expected = Verdict(rawValue: try expectedField.string()) else {
                throw expectedField.error(.invalidValue, "expected must be allow or deny")
            }
            probes.append(
                Probe(
                    from: try probe.required("from").name(),
                    to: try probe.required("to").name(),
                    port: try probe.required("port").portNumber(),
                    protocol: try probe["protocol"]?.kubernetesProtocol() ?? .tcp,
                    sourcePort: try probe["srcPort"]?.portNumber(),
                    expected: expected,
                    location: item.location
                )
            )
        }
        return Case(
            name: name,
            source: try object["source"]?.string() ?? "",
            bundle: Result { () throws(ResourceErrors) in
                try bundle(object)
            },
            probes: probes
        )
    }

    private static func bundle(_ object: FieldObject) throws(ResourceErrors) -> ResourceBundle {
        var builder = BundleBuilder()
        do throws(ResourceError) {
            if let namespaces = object["namespaces"] {
                for (key, value) in try namespaces.looseObject().entries {
                    let body = try value.object(known: ["labels"])
                    builder.bundle.cluster.add(
                        Namespace(name: key, labels: Labels(try body["labels"]?.stringMap() ?? [:]))
                    )
                }
            }
            if let accounts = object["serviceAccounts"] {
                for (key, value) in try accounts.looseObject().entries {
                    let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else {
                        throw value.error(.invalidValue, "want \"namespace/name\" as the key")
                    }
                    let body = try value.object(known: ["labels"])
                    builder.bundle.cluster.add(
                        ServiceAccount(
                            namespace: parts[0],
                            name: parts[1],
                            labels: Labels(try body["labels"]?.stringMap() ?? [:])
                        )
                    )
                }
            }
            var pods: [Endpoint] = []
            for item in try object["pods"]?.list() ?? [] { pods.append(try pod(item)) }
            builder.bundle.cluster.add(pods: pods)
            var external: [IPAddress] = []
            for item in try object["external"]?.list() ?? [] { external.append(try item.ipAddress()) }
            builder.bundle.cluster.add(external: external)
            for item in try object["policies"]?.list() ?? [] { builder.add(item) }
        } catch {
            builder.errors.append(error)
        }
        return try builder.finish(strict: false)
    }

    private static func pod(_ field: Field) throws(ResourceError) -> Endpoint {
        let object = try field.object(known: [
            "namespace", "name", "labels", "ip", "ips", "serviceAccount", "containerPorts", "hostNetwork",
        ])
        var addresses: [IPAddress] = []
        for item in [object["ip"]].compactMap({ $0 }) + (try object["ips"]?.list() ?? []) {
            addresses.append(try item.ipAddress())
        }
        var ports: [Endpoint.NamedPort] = []
        for item in try object["containerPorts"]?.list() ?? [] {
            if let port = try item.namedContainerPort(known: ["name", "containerPort", "protocol"]) {
                ports.append(port)
            }
        }
        return Endpoint(
            namespace: try object.required("namespace").name(),
            name: try object.required("name").name(),
            labels: Labels(try object["labels"]?.stringMap() ?? [:]),
            addresses: addresses,
            ports: ports,
            serviceAccount: try object["serviceAccount"]?.string() ?? "default",
            hostNetwork: try object["hostNetwork"]?.bool() ?? false
        )
    }
}
