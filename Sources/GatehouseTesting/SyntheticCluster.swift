/// Writes a synthetic cluster for benchmarks and property tests: namespaces, pods, network sets, tiers and
/// policies of every supported kind, deterministic for a given size and seed.
///
/// The default size is the benchmark's: 2,000 pods in 100 namespaces and 1,000 policies across the
/// Kubernetes, Calico (staged included) and ClusterNetworkPolicy kinds in 5 Calico tiers plus the
/// Admin and Baseline tiers.
public struct SyntheticCluster: Sendable {
    public let namespaces: Int
    public let podsPerNamespace: Int
    public let seed: UInt64

    public static let roles = ["frontend", "api", "model", "vector", "cache"]
    public static let tiers = [
        ("security", 100, "Pass"), ("platform", 200, "Pass"), ("compliance", 300, "Pass"), ("apps", 500, "Deny"),
    ]

    public init(namespaces: Int = 100, podsPerNamespace: Int = 20, seed: UInt64 = 42) {
        self.namespaces = namespaces
        self.podsPerNamespace = podsPerNamespace
        self.seed = seed
    }

    /// File name and YAML text of each file to write.
    public func files() -> [(name: String, text: String)] {
        [
            ("cluster.yaml", clusterYAML()), ("kubernetes.yaml", kubernetesYAML()), ("calico.yaml", calicoYAML()),
            ("admin.yaml", adminYAML()),
        ]
    }

    private func team(_ namespace: Int) -> String { "team-\(namespace % 10)" }
    private func env(_ namespace: Int) -> String { ["prod", "staging", "dev"][namespace % 3] }

    func clusterYAML() -> String {
        var text = ""
        for namespace in 0..<namespaces {
            text += """
                apiVersion: v1
                kind: Namespace
                metadata: {name: ns-\(namespace), labels: {team: \(team(namespace)), env: \(env(namespace))}}
                ---

                """
            for index in 0..<podsPerNamespace {
                let global = namespace * podsPerNamespace + index
                let role = Self.roles[index % Self.roles.count]
                text += """
                    apiVersion: v1
                    kind: Pod
                    metadata:
                      name: \(role)-\(index)
                      namespace: ns-\(namespace)
                      labels: {app: app-\(index % 5), role: \(role), version: v\(index % 2)}
                    spec:
                      serviceAccountName: sa-\(role)
                      containers:
                      - name: main
                        ports:
                        - {name: http, containerPort: 8080, protocol: TCP}
                        - {name: metrics, containerPort: 9090, protocol: TCP}
                        - {name: grpc, containerPort: 50051, protocol: TCP}
                    status: {podIP: 10.1.\(global / 250).\(global % 250 + 1)}
                    ---

                    """
            }
        }
        for index in 0..<20 {
            text += """
                apiVersion: projectcalico.org/v3
                kind: GlobalNetworkSet
                metadata: {name: ext-\(index), labels: {dest: ext-\(index % 5)}}
                spec: {nets: [198.51.\(index).0/24]}
                ---

                """
        }
        for (name, order, action) in Self.tiers {
            text += """
                apiVersion: projectcalico.org/v3
                kind: Tier
                metadata: {name: \(name)}
                spec: {order: \(order), defaultAction: \(action)}
                ---

                """
        }
        return text
    }

    /// 300 NetworkPolicies (3 per namespace) and 30 StagedKubernetesNetworkPolicies.
    func kubernetesYAML() -> String {
        var text = ""
        for namespace in 0..<namespaces {
            text += """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: default-deny, namespace: ns-\(namespace)}
                spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: api, namespace: ns-\(namespace)}
                spec:
                  podSelector: {matchLabels: {role: api}}
                  ingress:
                  - from: [{podSelector: {matchLabels: {role: frontend}}}]
                    ports: [{port: http}]
                  - from: [{namespaceSelector: {matchLabels: {team: \(team(namespace + 1))}}, podSelector: {matchExpressions: [{key: role, operator: In, values: [frontend, api]}]}}]
                    ports: [{port: 8000, endPort: 8100}]
                  egress:
                  - to: [{podSelector: {matchExpressions: [{key: role, operator: In, values: [model, vector]}]}}]
                    ports: [{port: 8080}, {port: grpc}]
                  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ns-0}}}]
                    ports: [{port: 53, protocol: UDP}]
                ---
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata: {name: model-egress, namespace: ns-\(namespace)}
                spec:
                  podSelector: {matchLabels: {role: model}}
                  policyTypes: [Egress, Ingress]
                  ingress:
                  - from: [{podSelector: {matchLabels: {role: api}}}, {ipBlock: {cidr: 10.1.0.0/16, except: [10.1.\(namespace % 8).0/24]}}]
                    ports: [{port: http}]
                  egress:
                  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]
                    ports: [{port: 443}]
                ---

                """
            if namespace % 10 < 3 {
                text += """
                    apiVersion: projectcalico.org/v3
                    kind: StagedKubernetesNetworkPolicy
                    metadata: {name: staged-vector, namespace: ns-\(namespace)}
                    spec:
                      podSelector: {matchLabels: {role: vector}}
                      ingress: [{from: [{podSelector: {matchLabels: {role: api}}}], ports: [{port: grpc}]}]
                    ---

                    """
            }
        }
        return text
    }

    /// 200 NetworkPolicies, 200 GlobalNetworkPolicies, 40 StagedNetworkPolicies, 30 StagedGlobalNetworkPolicies.
    func calicoYAML() -> String {
        var random = SeededGenerator(seed: seed)
        var text = ""
        for namespace in 0..<namespaces {
            text += """
                apiVersion: projectcalico.org/v3
                kind: NetworkPolicy
                metadata: {name: scrape, namespace: ns-\(namespace)}
                spec:
                  tier: apps
                  order: \(Int.random(in: 1...100, using: &random))
                  selector: has(app)
                  types: [Ingress]
                  ingress:
                  - action: Allow
                    protocol: TCP
                    source: {namespaceSelector: team == 'team-0', selector: role == 'api'}
                    destination: {ports: [metrics, "9000:9100"]}
                  - action: Pass
                    source: {selector: "role in {'frontend', 'api'}"}
                ---
                apiVersion: projectcalico.org/v3
                kind: NetworkPolicy
                metadata: {name: no-dev, namespace: ns-\(namespace)}
                spec:
                  order: 500
                  selector: role != 'frontend'
                  ingress:
                  - action: Deny
                    source: {namespaceSelector: env == 'dev', notSelector: role == 'api'}
                  - action: Log
                    protocol: TCP
                    destination: {notPorts: ["1:1023"]}
                ---

                """
            if namespace % 10 < 4 {
                text += """
                    apiVersion: projectcalico.org/v3
                    kind: StagedNetworkPolicy
                    metadata: {name: staged-cache, namespace: ns-\(namespace)}
                    spec:
                      tier: apps
                      order: 5
                      selector: role == 'cache'
                      ingress: [{action: Allow, protocol: TCP, source: {selector: role == 'api'}, destination: {ports: [6379]}}, {action: Deny}]
                    ---

                    """
            }
        }
        for index in 0..<200 {
            let tier = Self.tiers[index % 3].0
            let role = Self.roles[index % Self.roles.count]
            let teams = (0..<3).map { _ in "'team-\(Int.random(in: 0..<10, using: &random))'" }.joined(separator: ", ")
            text += """
                apiVersion: projectcalico.org/v3
                kind: GlobalNetworkPolicy
                metadata: {name: \(tier).g\(index)}
                spec:
                  tier: \(tier)
                  order: \(index)
                  selector: role == '\(role)' && version in {'v\(index % 2)'}
                  namespaceSelector: team in {\(teams)}
                  ingress:
                  - action: Deny
                    protocol: TCP
                    source: {nets: [10.1.\(index % 8).0/24], notNets: [10.1.\(index % 8).0/28]}
                    destination: {ports: ["\(8000 + index):\(8010 + index)"]}
                  - action: Pass
                    source: {serviceAccounts: {names: [sa-api, sa-frontend]}}
                  egress:
                  - action: Allow
                    protocol: TCP
                    destination: {selector: dest == 'ext-\(index % 5)', ports: [443]}
                  - action: Log
                    destination: {notNets: [10.0.0.0/8]}
                  - action: Deny
                    notProtocol: TCP
                    destination: {notNets: [10.0.0.0/8]}
                ---

                """
        }
        for index in 0..<30 {
            text += """
                apiVersion: projectcalico.org/v3
                kind: StagedGlobalNetworkPolicy
                metadata: {name: security.staged\(index)}
                spec:
                  tier: security
                  order: \(1000 + index)
                  selector: role == '\(Self.roles[index % Self.roles.count])'
                  namespaceSelector: env == '\(env(index))'
                  types: [Egress]
                  egress: [{action: Deny, destination: {nets: [198.51.\(index % 20).0/24]}}]
                ---

                """
        }
        return text
    }

    /// 50 AdminNetworkPolicies, 100 Admin and 49 Baseline ClusterNetworkPolicies, and the BaselineAdminNetworkPolicy.
    func adminYAML() -> String {
        var text = ""
        for index in 0..<50 {
            text += """
                apiVersion: policy.networking.k8s.io/v1alpha1
                kind: AdminNetworkPolicy
                metadata: {name: anp-\(index)}
                spec:
                  priority: \(index * 2)
                  subject: {pods: {namespaceSelector: {matchLabels: {team: \(team(index))}}, podSelector: {matchLabels: {role: \(Self.roles[index % 5])}}}}
                  ingress:
                  - {name: deny-dev, action: Deny, from: [{namespaces: {matchLabels: {env: dev}}}], ports: [{portNumber: {protocol: TCP, port: \(9000 + index)}}]}
                  - {name: pass-rest, action: Pass, from: [{namespaces: {}}]}
                  egress:
                  - {name: allow-dns, action: Allow, to: [{pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ns-0}}, podSelector: {}}}], ports: [{portNumber: {protocol: UDP, port: 53}}]}
                ---

                """
        }
        text += """
            apiVersion: policy.networking.k8s.io/v1alpha1
            kind: BaselineAdminNetworkPolicy
            metadata: {name: default}
            spec:
              subject: {namespaces: {matchLabels: {env: prod}}}
              ingress: [{name: deny-dev, action: Deny, from: [{namespaces: {matchLabels: {env: dev}}}]}]
            ---

            """
        for index in 0..<149 {
            let tier = index < 100 ? "Admin" : "Baseline"
            let action = index % 3 == 0 ? "Accept" : (index % 3 == 1 ? "Deny" : "Pass")
            text += """
                apiVersion: policy.networking.k8s.io/v1alpha2
                kind: ClusterNetworkPolicy
                metadata: {name: cnp-\(index)}
                spec:
                  tier: \(tier)
                  priority: \(100 + index)
                  subject: {namespaces: {matchLabels: {env: \(env(index))}}}
                  ingress:
                  - name: r0
                    action: \(action)
                    from: [{pods: {namespaceSelector: {matchLabels: {team: \(team(index))}}, podSelector: {matchLabels: {role: \(Self.roles[(index + 1) % 5])}}}}]
                    protocols: [{tcp: {destinationPort: {range: {start: \(7000 + index), end: \(7100 + index)}}}}, {destinationNamedPort: grpc}]
                  egress:
                  - name: r1
                    action: \(index % 2 == 0 ? "Deny" : "Accept")
                    to: [{networks: [198.51.\(index % 20).0/24]}]
                ---

                """
        }
        return text
    }
}
