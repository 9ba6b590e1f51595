import GatehouseCore

/// What the gateway's own `gatehouse.yaml` tells a blueprint: the port it listens on and where it sends
/// each model. The CLI reads it from the gateway's configuration, so this module never depends on the
/// gateway's; `Blueprint.decode` turns each upstream into a model server the gateway alone may reach (a
/// Service in the cluster) or into the gateway's egress (anything else).
public struct BlueprintGateway: Sendable {
    public struct Upstream: Sendable {
        public let model: String
        /// Its place in the model's `upstreams`, for messages.
        public let index: Int
        /// The URL as written, for messages.
        public let url: String
        public let host: String
        public let port: UInt16

        public init(model: String, index: Int, url: String, host: String, port: UInt16) {
            self.model = model
            self.index = index
            self.url = url
            self.host = host
            self.port = port
        }
    }

    /// Where an upstream leads, once the cluster's Services are known.
    enum Target: Equatable {
        /// A Service's pods: they become a model server of the blueprint.
        case pods(service: String, namespace: String, labels: [String: String], port: UInt16)
        case outside(fqdn: String?, cidr: CIDR?, port: UInt16)
        /// The gateway's own pod: nothing to allow.
        case loopback
    }

    public let file: String
    public let listenPort: UInt16
    public let upstreams: [Upstream]

    public init(file: String, listenPort: UInt16, upstreams: [Upstream]) {
        self.file = file
        self.listenPort = listenPort
        self.upstreams = upstreams
    }

    /// Resolves an upstream as the gateway's pod would reach it: `NAME.NAMESPACE.svc[.DOMAIN]`, a bare
    /// `NAME` (the gateway's namespace) or a `NAME.NAMESPACE` that the cluster serves are Services,
    /// whose selector and target port are read from `cluster`; an address or any other host name is
    /// outside the cluster.
    func target(of upstream: Upstream, gatewayNamespace: String, cluster: Cluster?) throws(ResourceError) -> Target {
        let host = upstream.host.lowercased()
        if let address = IPAddress(host) {
            if Self.loopback.contains(where: { $0.contains(address) }) { return .loopback }
            return .outside(fqdn: nil, cidr: CIDR(host: address), port: upstream.port)
        }
        if host == "localhost" { return .loopback }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let service: (name: String, namespace: String)
        if labels.count == 1 {
            service = (labels[0], gatewayNamespace)
        } else if labels.count >= 3 && labels[2] == "svc" {
            service = (labels[0], labels[1])
        } else if labels.count == 2, cluster?.services["\(labels[1])/\(labels[0])"] != nil {
            service = (labels[0], labels[1])
        } else {
            return .outside(fqdn: host, cidr: nil, port: upstream.port)
        }
        let reference = "Service \(service.namespace)/\(service.name)"
        guard let cluster else {
            throw error(
                upstream,
                "names \(reference): give --cluster or --state with it, so that its selector and target port are known"
            )
        }
        guard let found = cluster.services["\(service.namespace)/\(service.name)"] else {
            throw error(upstream, "names \(reference), which the cluster state does not hold")
        }
        guard let selector = found.selector, !selector.isEmpty else {
            throw error(upstream, "names \(reference), which has no selector: its pods cannot be named")
        }
        guard let port = found.ports.first(where: { $0.port == upstream.port && $0.protocol == .tcp }) else {
            throw error(upstream, "names \(reference), which has no TCP port \(upstream.port)")
        }
        var target = port.targetNumber ?? port.port
        if let name = port.targetName {
            let pods = cluster.pods.filter { pod in
                pod.namespace == service.namespace && selector.allSatisfy { pod.labels[$0.key] == $0.value }
            }
            guard let number = pods.lazy.compactMap({ $0.resolve(namedPort: name, protocol: .tcp) }).first else {
                throw error(upstream, "names \(reference), whose target port \"\(name)\" no selected pod declares")
            }
            target = number
        }
        return .pods(service: service.name, namespace: service.namespace, labels: selector, port: target)
    }

    private static let loopback = [CIDR("127.0.0.0/8"), CIDR("::1/128")].compactMap { $0 }

    func error(_ upstream: Upstream, _ reason: String) -> ResourceError {
        ResourceError(
            .invalidValue,
            "\(upstream.url) \(reason)",
            field: "\(file): models[\(upstream.model)].upstreams[\(upstream.index)].url"
        )
    }
}
