import GatehouseCore
import GatehousePolicy

/// Builds engines from inline YAML in tests: `try PolicyFixture(yaml).engine.decide(...)`.
public struct PolicyFixture: Sendable {
    public let bundle: ResourceBundle
    public let engine: PolicyEngine

    /// Loads YAML as if read from `file`; throws the loader's errors.
    public init(_ yaml: String, file: String = "test.yaml", strict: Bool = false) throws {
        self.bundle = try ResourceLoader(strict: strict).load(text: yaml, file: file)
        self.engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
    }

    /// The verdict of one flow; `from` and `to` are `ns/pod` or `ip:ADDRESS`.
    public func verdict(
        _ from: String,
        _ to: String,
        port: UInt16,
        protocol proto: IPProtocol = .tcp,
        sourcePort: UInt16? = nil
    ) throws -> Verdict {
        try decide(from, to, port: port, protocol: proto, sourcePort: sourcePort).verdict
    }

    public func decide(
        _ from: String,
        _ to: String,
        port: UInt16,
        protocol proto: IPProtocol = .tcp,
        sourcePort: UInt16? = nil
    ) throws -> Decision {
        let flow = Flow(
            source: try engine.resolve(from),
            destination: try engine.resolve(to),
            protocol: proto,
            port: port,
            sourcePort: sourcePort
        )
        let decision = engine.decide(flow)
        precondition(engine.allows(flow) == (decision.verdict == .allow), "fast path and traced path disagree")
        return decision
    }
}

/// YAML for cluster state in tests: namespaces with labels and pods with labels, IPs and ports.
public enum ClusterYAML {
    public static func namespace(_ name: String, labels: [String: String] = [:]) -> String {
        """
        apiVersion: v1
        kind: Namespace
        metadata:
          name: \(name)
          labels: \(flow(labels))
        ---

        """
    }

    public static func pod(
        _ namespace: String,
        _ name: String,
        ip: String,
        labels: [String: String] = [:],
        ports: [(name: String, port: Int, protocol: String)] = [],
        serviceAccount: String = "default"
    ) -> String {
        let portList = ports.map { "{name: \($0.name), containerPort: \($0.port), protocol: \($0.protocol)}" }
        return """
            apiVersion: v1
            kind: Pod
            metadata:
              name: \(name)
              namespace: \(namespace)
              labels: \(flow(labels))
            spec:
              serviceAccountName: \(serviceAccount)
              containers: [{name: main, ports: [\(portList.joined(separator: ", "))]}]
            status:
              podIP: \(ip)
            ---

            """
    }

    private static func flow(_ labels: [String: String]) -> String {
        "{" + labels.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ") + "}"
    }
}
