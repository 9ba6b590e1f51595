import Foundation
import GatehouseCore
import GatehousePolicy
import GatehouseTesting
import Testing

/// Bounded fuzzing that runs in CI: no input crashes the selector parser or the resource decoder.
@Suite("Fuzzing")
struct FuzzTests {
    /// Seconds per fuzz test (`GATEHOUSE_FUZZ_SECONDS`, default 4) and the seed offset (`GATEHOUSE_FUZZ_SEED`),
    /// so a longer or different run needs no code change.
    static let budget = Duration.seconds(Int(ProcessInfo.processInfo.environment["GATEHOUSE_FUZZ_SECONDS"] ?? "") ?? 4)
    static let seedOffset = UInt64(ProcessInfo.processInfo.environment["GATEHOUSE_FUZZ_SEED"] ?? "") ?? 0

    static let selectorPieces = [
        "a", "app", "k8s.io/x", "==", "!=", " in ", " not in ", "{", "}", ",", "'v'", "\"v\"", "(", ")", "&&", "||",
        "!",
        "has(", "all()", "global()", " contains ", " starts with ", " ends with ", " ", "\t", "'", "\u{0}", "é", "\n",
    ]

    @Test("random selector text parses or fails with a column inside the text")
    func selectors() {
        var random = SeededGenerator(seed: 0x5E1E_C702 &+ Self.seedOffset)
        let clock = ContinuousClock()
        let deadline = clock.now + Self.budget
        var parsed = 0
        var iterations = 0
        while clock.now < deadline && iterations < 200_000 {
            iterations += 1
            let count = Int.random(in: 1...12, using: &random)
            let text = (0..<count).map { _ in Self.selectorPieces.randomElement(using: &random)! }.joined()
            do {
                let selector = try Selector(parsing: text)
                parsed += 1
                // What parses prints to text that parses to the same tree.
                #expect(try Selector(parsing: selector.description) == selector, "\(text)")
            } catch {
                #expect(error.column >= 1 && error.column <= text.count + 1, "\(text): \(error)")
            }
        }
        #expect(parsed > 0 && iterations > 1_000)
    }

    static let seedDocument = """
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkPolicy
        metadata: {name: p}
        spec:
          selector: app == 'x' && has(y)
          order: 10
          ingress:
          - action: Allow
            protocol: TCP
            source: {nets: [10.0.0.0/8], notNets: [10.1.0.0/16], selector: "a in {'b'}"}
            destination: {ports: [80, "1000:2000", http]}
          egress: [{action: Deny, destination: {namespaceSelector: global()}}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: q, namespace: x}
        spec:
          podSelector: {matchExpressions: [{key: a, operator: In, values: [b]}]}
          ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/16]}}], ports: [{port: 80, endPort: 90}]}]
        ---
        apiVersion: policy.networking.k8s.io/v1alpha2
        kind: ClusterNetworkPolicy
        metadata: {name: c}
        spec:
          tier: Admin
          priority: 3
          subject: {pods: {namespaceSelector: {}, podSelector: {}}}
          egress: [{action: Pass, to: [{networks: [0.0.0.0/0]}], protocols: [{tcp: {destinationPort: {range: {start: 1, end: 9}}}}]}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: a, namespace: x, labels: {a: b, app: x, y: z}}
        spec: {serviceAccountName: sa, containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}
        status: {podIP: 10.0.0.5, podIPs: [{ip: 10.0.0.5}, {ip: "fd00::5"}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: b, namespace: y, labels: {app: w}}
        spec: {hostNetwork: false, containers: [{name: c}]}
        status: {podIP: 10.1.0.6}
        ---
        apiVersion: projectcalico.org/v3
        kind: StagedNetworkPolicy
        metadata: {name: s, namespace: y}
        spec:
          tier: t
          selector: all()
          ingress: [{action: Deny, source: {services: {name: svc, namespace: x}}}]
        ---
        apiVersion: projectcalico.org/v3
        kind: Tier
        metadata: {name: t}
        spec: {order: 50, defaultAction: Pass}
        ---
        apiVersion: projectcalico.org/v3
        kind: GlobalNetworkSet
        metadata: {name: n, labels: {a: b}}
        spec: {nets: [203.0.113.0/24]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: svc, namespace: x}
        spec: {selector: {app: x}, ports: [{port: 80, targetPort: http}]}
        """

    @Test("mutated resource files load or fail with located errors, never crash")
    func resources() {
        var random = SeededGenerator(seed: 0xDEC0DE &+ Self.seedOffset)
        let original = Array(Self.seedDocument.utf8)
        let mutator = ByteMutator(alphabet: "{}[]:,-'\"&*!|>#\n \t0123456789abcxyz/.%@`\\\u{0}\u{FF}", maximumEdits: 6)
        let clock = ContinuousClock()
        let deadline = clock.now + Self.budget
        var loaded = 0
        var refused = 0
        while clock.now < deadline && loaded + refused < 20_000 {
            let text = mutator.mutate(original, using: &random)
            do {
                var bundle = try ResourceLoader().load(text: text, file: "fuzz.yaml")
                bundle.cluster.add(external: [IPAddress("203.0.113.9")!])
                // Everything a user can run on what loaded: decisions, a matrix, lint and a diff.
                let engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
                for endpoint in engine.matrixEndpoints {
                    _ = engine.decide(
                        Flow(source: endpoint, destination: .external(IPAddress("fd00::9")!), protocol: .udp, port: 53)
                    )
                }
                _ = ReachabilityMatrix(engine: engine, port: 80, protocol: .tcp)
                _ = PolicyLinter(bundle: bundle).findings()
                _ = PolicyDiff(cluster: bundle.cluster, old: bundle.policySet, new: PolicySet())
                loaded += 1
            } catch {
                refused += 1
                for problem in error.errors {
                    #expect(!problem.description.isEmpty)
                    if let location = problem.location { #expect(location.file == "fuzz.yaml" && location.line >= 1) }
                }
            }
        }
        #expect(loaded > 0 && refused > 0)
    }
}
