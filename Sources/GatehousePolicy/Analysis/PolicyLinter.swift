import GatehouseCore

/// Reviews a policy set against a cluster the way a zero-trust reviewer would.
///
/// Codes: `no-default-deny-ingress`, `no-default-deny-egress`, `allow-all-rule`, `allow-any-address`,
/// `allow-any-namespace`, `cidr-host-bits`, `policy-selects-nothing`, `peer-selects-nothing`, `shadowed-rule`, `except-outside-nets`,
/// `unknown-named-port`, `staged-would-deny`, `egress-blocks-dns`, `priority-overlap`,
/// `selector-matches-absent-label`, `http-match-ignored`.
public struct PolicyLinter: Sendable {
    public let bundle: ResourceBundle
    public let engine: PolicyEngine

    /// The most flows examined for one staged policy, so that lint stays fast on large clusters.
    static let stagedFlowBudget = 250_000

    /// Every port name some pod declares.
    private let declaredPortNames: Set<String>

    public init(bundle: ResourceBundle) {
        self.bundle = bundle
        self.engine = PolicyEngine(cluster: bundle.cluster, policySet: bundle.policySet)
        self.declaredPortNames = Set(bundle.cluster.pods.flatMap { $0.ports.map(\.name) })
    }

    public func findings() -> [LintFinding] {
        var findings: [LintFinding] = []
        findings += defaultDeny()
        var members = MemberIndexView(engine: engine)
        for (index, policy) in engine.policies.enumerated() {
            findings += policyFindings(policy, index: index, members: &members)
        }
        findings += stagedWouldDeny()
        findings += dnsEgress()
        findings += priorityOverlap()
        // Most severe first, then by code and object, so output is stable and diffs of it are meaningful.
        return findings.sorted { lhs, rhs in
            if lhs.severity != rhs.severity { return lhs.severity > rhs.severity }
            if lhs.code != rhs.code { return lhs.code < rhs.code }
            return (lhs.object, lhs.field ?? "") < (rhs.object, rhs.field ?? "")
        }
    }

    /// The first three names and how many more: enough to find the rest.
    static func sample(_ names: [String]) -> String {
        names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
    }

    // MARK: - Namespaces

    /// Pods that accept (or send) anything because no enforced policy applies to them.
    private func defaultDeny() -> [LintFinding] {
        var findings: [LintFinding] = []
        let cluster = engine.cluster
        var byNamespace: [String: [Int]] = [:]
        for (index, pod) in cluster.pods.enumerated() { byNamespace[pod.namespace ?? "", default: []].append(index) }
        for (namespace, pods) in byNamespace.sorted(by: { $0.key < $1.key }) {
            for direction in TrafficDirection.allCases {
                let open = pods.filter { !isIsolated(pod: $0, direction) }
                guard !open.isEmpty else { continue }
                let names = PolicyLinter.sample(open.map { cluster.pods[$0].name })
                let what = direction == .ingress ? "are not isolated for ingress" : "are not isolated for egress"
                findings.append(
                    LintFinding(
                        code: direction == .ingress ? "no-default-deny-ingress" : "no-default-deny-egress",
                        severity: .warning,
                        object: "Namespace \(namespace)",
                        message:
                            "\(open.count) of \(pods.count) pods \(what): no policy in a tier that ends in Deny "
                            + "applies to them (\(names)); add a default-deny policy"
                    )
                )
            }
        }
        return findings
    }

    private func isIsolated(pod: Int, _ direction: TrafficDirection) -> Bool {
        engine.policies.indices.contains { index in
            let policy = engine.policies[index]
            return !policy.isStaged && policy.types.contains(direction) && engine.subjects[index].contains(pod)
                && tierDecides(policy)
        }
    }

    /// Whether a policy's tier ends in Deny, so that applying the policy isolates the pod.
    private func tierDecides(_ policy: Policy) -> Bool {
        engine.tiers.first { $0.name == policy.tier }?.defaultAction == .deny
    }

    // MARK: - Policies and rules

    private func policyFindings(_ policy: Policy, index: Int, members: inout MemberIndexView) -> [LintFinding] {
        var findings: [LintFinding] = []
        let object = policy.reference.description
        if !policy.isStaged && engine.subjects[index].isEmpty {
            findings.append(
                LintFinding(
                    code: "policy-selects-nothing",
                    severity: .warning,
                    object: object,
                    field: "spec",
                    message: "applies to no pod of the given cluster state",
                    location: policy.location
                )
            )
        }
        for direction in TrafficDirection.allCases {
            let rules = policy.rules(direction)
            let key = direction == .ingress ? "ingress" : "egress"
            for (position, rule) in rules.enumerated() {
                let field = "spec.\(key)[\(rule.index)]"
                let far = direction == .ingress ? rule.source : rule.destination
                let near = direction == .ingress ? rule.destination : rule.source
                if rule.action == .allow && !far.constrainsPeer && !near.constrainsPeer && rule.protocols == .any
                    && rule.ipVersion == nil && rule.source.ports.isEmpty && rule.destination.ports.isEmpty
                    && rule.source.notPorts.isEmpty && rule.destination.notPorts.isEmpty
                {
                    findings.append(
                        LintFinding(
                            code: "allow-all-rule",
                            severity: .warning,
                            object: object,
                            field: field,
                            message: "allows every \(direction.rawValue.lowercased()) connection on every port",
                            location: rule.location
                        )
                    )
                }
                for peer in far.peers {
                    if rule.action == .allow, let nets = peer.nets,
                        nets.contains(where: { $0.prefixLength == 0 }) && peer.notNets.isEmpty
                    {
                        findings.append(
                            LintFinding(
                                code: "allow-any-address",
                                severity: .warning,
                                object: object,
                                field: field,
                                message: "allows any address (\(nets.map(\.description).joined(separator: ", "))) "
                                    + "with no exceptions",
                                location: rule.location
                            )
                        )
                    }
                    if rule.action == .allow, let members = peer.members,
                        case .namespaces(let namespaces) = members.scope,
                        namespaces.isAll, members.selector.isAll, members.serviceAccountNames == nil,
                        members.serviceAccountSelector == nil, peer.notMembers == nil
                    {
                        findings.append(
                            LintFinding(
                                code: "allow-any-namespace",
                                severity: .info,
                                object: object,
                                field: field,
                                message:
                                    "allows every pod of every namespace; name the namespaces or workloads instead",
                                location: rule.location
                            )
                        )
                    }
                    for cidr in (peer.nets ?? []) + peer.notNets where !cidr.isCanonical {
                        findings.append(
                            LintFinding(
                                code: "cidr-host-bits",
                                severity: .info,
                                object: object,
                                field: field,
                                message: "a CIDR was written with host bits set; it means \(cidr)",
                                location: rule.location
                            )
                        )
                    }
                    if let nets = peer.nets, !nets.isEmpty {
                        for except in peer.notNets where !nets.contains(where: { $0.contains(except) }) {
                            findings.append(
                                LintFinding(
                                    code: "except-outside-nets",
                                    severity: .warning,
                                    object: object,
                                    field: field,
                                    message:
                                        "notNets \(except) lies outside every net of the rule; it excludes nothing",
                                    location: rule.location
                                )
                            )
                        }
                    }
                    for query in [peer.members, peer.notMembers].compactMap({ $0 }) {
                        if members.isEmpty(query) {
                            findings.append(
                                LintFinding(
                                    code: "peer-selects-nothing",
                                    severity: .info,
                                    object: object,
                                    field: field,
                                    message:
                                        "selector \(query.selector) matches no pod or network set in the given cluster",
                                    location: rule.location
                                )
                            )
                        }
                    }
                }
                for selector in selectors(of: rule)
                where selector.matchesOnAbsentLabel && policy.kind != .kubernetesNetworkPolicy {
                    findings.append(
                        LintFinding(
                            code: "selector-matches-absent-label",
                            severity: .info,
                            object: object,
                            field: field,
                            message: "selector \(selector) also matches endpoints that lack the label",
                            location: rule.location
                        )
                    )
                }
                findings += namedPortFindings(rule, object: object, field: field)
                if rule.hasApplicationLayerMatch {
                    findings.append(
                        LintFinding(
                            code: "http-match-ignored",
                            severity: .info,
                            object: object,
                            field: field,
                            message: "the http match needs Calico's application layer; judged at connection level",
                            location: rule.location
                        )
                    )
                }
                if let shadow = rules[..<position].first(where: {
                    covers($0, rule, index: &members)
                }) {
                    findings.append(
                        LintFinding(
                            code: "shadowed-rule",
                            severity: .warning,
                            object: object,
                            field: field,
                            message: "never decides anything: \(key) rule \(shadow.index) (\(shadow.action)) matches "
                                + "every flow this rule matches",
                            location: rule.location
                        )
                    )
                }
            }
        }
        return findings
    }

    private func selectors(of rule: PolicyRule) -> [Selector] {
        (rule.source.peers + rule.destination.peers).compactMap { $0.members?.selector }
    }

    /// Named ports that no pod on the resolving side declares.
    private func namedPortFindings(_ rule: PolicyRule, object: String, field: String) -> [LintFinding] {
        var findings: [LintFinding] = []
        for match in rule.source.ports + rule.destination.ports {
            guard case .named(let name) = match.ports, !declaredPortNames.contains(name) else { continue }
            findings.append(
                LintFinding(
                    code: "unknown-named-port",
                    severity: .warning,
                    object: object,
                    field: field,
                    message: "named port \"\(name)\" is declared by no pod; the rule matches no connection on it",
                    location: rule.location
                )
            )
        }
        return findings
    }

    /// Whether `earlier` matches every flow `later` matches, with a deciding action, so `later` never decides.
    private func covers(
        _ earlier: PolicyRule,
        _ later: PolicyRule,
        index: inout MemberIndexView
    ) -> Bool {
        guard earlier.action != .log else { return false }
        if let only = earlier.protocols.only, later.protocols.only != only { return false }
        if let except = earlier.protocols.except, later.protocols.only == nil || later.protocols.only == except {
            return false
        }
        if let version = earlier.ipVersion, later.ipVersion != version { return false }
        return covers(earlier.source, later.source, index: &index)
            && covers(earlier.destination, later.destination, index: &index)
    }

    private func covers(_ earlier: EntityMatch, _ later: EntityMatch, index: inout MemberIndexView) -> Bool {
        guard earlier.notPorts.isEmpty else { return false }
        if !earlier.ports.isEmpty {
            guard !later.ports.isEmpty else { return false }
            let coveredPorts = later.ports.allSatisfy { port in earlier.ports.contains { covers($0, port) } }
            guard coveredPorts else { return false }
        }
        guard earlier.constrainsPeer else { return true }
        guard later.constrainsPeer else { return false }
        // Service peers are resolved only in the engine; never claim coverage across them.
        if (earlier.peers + later.peers).contains(where: { $0.service != nil }) { return false }
        // Peers: every pod the later rule matches must be matched earlier, and any address-based peer of the
        // later rule must lie inside an address-based peer of the earlier one.
        let outer = index.pods(earlier)
        let inner = index.pods(later)
        guard outer.v4.isSuperset(of: inner.v4), outer.v6.isSuperset(of: inner.v6) else { return false }
        for peer in later.peers where peer.nets != nil || peer.members?.includesNetworkSets == true {
            let inside = earlier.peers.contains { candidate in
                guard candidate.members == nil, candidate.notMembers == nil, candidate.notNets.isEmpty,
                    let outer = candidate.nets, let inner = peer.nets
                else { return false }
                return inner.allSatisfy { net in outer.contains { $0.contains(net) } }
            }
            if !inside { return false }
        }
        return true
    }

    private func covers(_ outer: PortMatch, _ inner: PortMatch) -> Bool {
        if let proto = outer.protocol, inner.protocol != proto { return false }
        switch (outer.ports, inner.ports) {
        case (.any, _): return true
        case (.range(let a), .range(let b)): return a.contains(b)
        case (.named(let a), .named(let b)): return a == b
        default: return false
        }
    }

    // MARK: - Cross-policy checks

    /// Flows allowed now that the staged policies would deny.
    private func stagedWouldDeny() -> [LintFinding] {
        let staged = engine.policies.indices.filter { engine.policies[$0].isStaged }
        guard !staged.isEmpty else { return [] }
        let endpoints = engine.matrixEndpoints
        var findings: [LintFinding] = []
        for policyIndex in staged {
            let policy = engine.policies[policyIndex]
            // Only the staged policy's own port criteria (and declared ports) can change a verdict.
            let classes = PortClassIndex(policySets: [PolicySet(policies: [policy])], cluster: engine.cluster)
                .probeClasses
            var examples: [String] = []
            var count = 0
            var checked = 0
            scan: for pod in engine.subjects[policyIndex].members {
                for direction in policy.types.sorted(by: { $0.rawValue < $1.rawValue }) {
                    for portClass in classes {
                        for other in endpoints where other != .pod(pod) {
                            checked += 1
                            if checked > PolicyLinter.stagedFlowBudget { break scan }
                            let (source, destination) =
                                direction == .egress ? (FlowEndpoint.pod(pod), other) : (other, .pod(pod))
                            let flow = Flow(
                                source: source,
                                destination: destination,
                                protocol: portClass.protocol,
                                port: portClass.range.lower
                            )
                            // Attributed to this policy only when its own side flips from allow to deny
                            // while the far side allows.
                            guard engine.verdict(of: direction, pod: pod, flow) == .allow,
                                engine.verdict(of: direction, pod: pod, flow, staged: true) == .deny,
                                engine.allows(flow)
                            else { continue }
                            count += 1
                            if examples.count < 3 {
                                examples.append(
                                    "\(engine.name(of: source)) -> \(engine.name(of: destination)) "
                                        + "\(portClass.protocol)/\(portClass.range)"
                                )
                            }
                        }
                    }
                }
            }
            guard count > 0 else { continue }
            findings.append(
                LintFinding(
                    code: "staged-would-deny",
                    severity: .warning,
                    object: policy.reference.description,
                    message: "would deny \(count)\(checked > PolicyLinter.stagedFlowBudget ? " or more" : "") "
                        + "flow(s) allowed now, such as \(examples.joined(separator: "; "))",
                    location: policy.location
                )
            )
        }
        return findings
    }

    /// Pods isolated for egress that can no longer reach the cluster DNS (pods labelled k8s-app=kube-dns).
    private func dnsEgress() -> [LintFinding] {
        let cluster = engine.cluster
        let dns = cluster.pods.indices.filter { cluster.pods[$0].labels["k8s-app"] == "kube-dns" }
        guard let resolver = dns.first else { return [] }
        var blocked: [String: [String]] = [:]
        for (index, pod) in cluster.pods.enumerated() where index != resolver {
            guard isIsolated(pod: index, .egress) else { continue }
            let flow = Flow(source: .pod(index), destination: .pod(resolver), protocol: .udp, port: 53)
            if !engine.allows(flow) { blocked[pod.namespace ?? "", default: []].append(pod.name) }
        }
        return blocked.sorted { $0.key < $1.key }.map { namespace, pods in
            LintFinding(
                code: "egress-blocks-dns",
                severity: .warning,
                object: "Namespace \(namespace)",
                message:
                    "\(pods.count) pod(s) cannot reach the cluster DNS on UDP/53 (\(PolicyLinter.sample(pods))); "
                    + "allow egress to kube-dns"
            )
        }
    }

    /// Admin-tier policies of equal priority whose subjects overlap: their order is undefined by the API.
    private func priorityOverlap() -> [LintFinding] {
        var findings: [LintFinding] = []
        let candidates = engine.policies.indices.filter {
            [.adminNetworkPolicy, .clusterNetworkPolicy].contains(engine.policies[$0].kind)
        }
        for (position, first) in candidates.enumerated() {
            for second in candidates[(position + 1)...] {
                let a = engine.policies[first]
                let b = engine.policies[second]
                guard a.tier == b.tier, a.order == b.order else { continue }
                var overlap = engine.subjects[first]
                overlap.formIntersection(engine.subjects[second])
                guard !overlap.isEmpty else { continue }
                findings.append(
                    LintFinding(
                        code: "priority-overlap",
                        severity: .warning,
                        object: a.reference.description,
                        field: "spec.priority",
                        message: "has the same priority (\(Int(a.order ?? 0))) as \(b.reference) and both apply to "
                            + "\(overlap.cardinality) pod(s); which one wins is undefined",
                        location: a.location
                    )
                )
            }
        }
        return findings
    }
}
