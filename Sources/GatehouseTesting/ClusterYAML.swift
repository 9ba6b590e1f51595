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
