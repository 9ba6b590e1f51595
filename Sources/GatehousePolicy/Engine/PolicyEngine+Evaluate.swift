import GatehouseCore

extension PolicyEngine {
    /// The verdict for a flow with the full trace of both directions.
    public func decide(_ flow: Flow) -> Decision {
        Decision(
            source: name(of: flow.source),
            destination: name(of: flow.destination),
            protocol: flow.protocol,
            port: flow.port,
            sourcePort: flow.sourcePort,
            egress: trace(.egress, of: flow.source, flow),
            ingress: trace(.ingress, of: flow.destination, flow)
        )
    }

    /// The verdict alone, with no trace: the fast path for matrices and diffs.
    public func allows(_ flow: Flow, staged: Bool = false) -> Bool {
        if case .pod(let source) = flow.source, case .pod(let destination) = flow.destination, source == destination {
            return true
        }
        var skip = SkipTrace()
        if case .pod(let source) = flow.source,
            evaluate(.egress, pod: source, flow, staged: staged, recorder: &skip).verdict == .deny
        {
            return false
        }
        if case .pod(let destination) = flow.destination,
            evaluate(.ingress, pod: destination, flow, staged: staged, recorder: &skip).verdict == .deny
        {
            return false
        }
        return true
    }

    /// Whether any staged policy applies to this pod in this direction.
    public func hasStagedPolicies(pod: Int, direction: TrafficDirection) -> Bool {
        slices[direction == .ingress ? 0 : 1][pod].contains { $0.pending != nil }
    }

    /// `namespace/name` for a pod, `ip:ADDRESS` otherwise.
    public func name(of endpoint: FlowEndpoint) -> String {
        switch endpoint {
        case .pod(let index): return cluster.pods[index].description
        case .external(let address): return "ip:\(address)"
        }
    }

    private func trace(_ direction: TrafficDirection, of endpoint: FlowEndpoint, _ flow: Flow) -> DirectionTrace {
        let label = name(of: endpoint)
        guard case .pod(let pod) = endpoint else {
            let evaluation = Evaluation(outcome: Outcome(reason: .unenforced, verdict: .allow), tiers: [])
            return DirectionTrace(direction: direction, endpoint: label, enforced: evaluation, staged: nil)
        }
        if flow.source == flow.destination {
            let evaluation = Evaluation(outcome: Outcome(reason: .loopback, verdict: .allow), tiers: [])
            return DirectionTrace(direction: direction, endpoint: label, enforced: evaluation, staged: nil)
        }
        var builder = TraceBuilder()
        let outcome = evaluate(direction, pod: pod, flow, staged: false, recorder: &builder)
        let enforced = Evaluation(outcome: outcome, tiers: builder.tiers)
        var staged: Evaluation?
        if hasStagedPolicies(pod: pod, direction: direction) {
            var stagedBuilder = TraceBuilder()
            let stagedOutcome = evaluate(direction, pod: pod, flow, staged: true, recorder: &stagedBuilder)
            staged = Evaluation(outcome: stagedOutcome, tiers: stagedBuilder.tiers)
        }
        return DirectionTrace(direction: direction, endpoint: label, enforced: enforced, staged: staged)
    }

    /// Calico's per-endpoint evaluation: tier by tier, policy by policy, rule by rule.
    func evaluate<Recorder: TraceRecorder>(
        _ direction: TrafficDirection,
        pod: Int,
        _ flow: Flow,
        staged: Bool,
        recorder: inout Recorder
    ) -> Outcome {
        let podSlices = slices[direction == .ingress ? 0 : 1][pod]
        let family = self.family(of: flow)
        var applied = false
        for slice in podSlices {
            let list = staged ? (slice.pending ?? slice.enforced) : slice.enforced
            if list.isEmpty { continue }
            applied = true
            let tier = tiers[slice.tier]
            recorder.enterTier(tier)
            var passed = false
            policies: for policyIndex in list {
                let rules = direction == .ingress ? ingressRules[policyIndex] : egressRules[policyIndex]
                for rule in rules where matches(rule, flow, family: family) {
                    recorder.record(policies[policyIndex], ruleIndex: rule.index, action: rule.action)
                    switch rule.action {
                    case .log:
                        continue
                    case .allow, .deny:
                        return Outcome(
                            reason: .rule,
                            verdict: rule.action == .allow ? .allow : .deny,
                            policy: policies[policyIndex].reference,
                            ruleIndex: rule.index,
                            tier: tier.name
                        )
                    case .pass:
                        passed = true
                        break policies
                    }
                }
                recorder.record(policies[policyIndex], ruleIndex: nil, action: nil)
            }
            if passed { continue }
            recorder.endOfTier(tier.defaultAction)
            if tier.defaultAction == .deny {
                return Outcome(reason: .endOfTier, verdict: .deny, tier: tier.name)
            }
        }
        return Outcome(reason: applied ? .passedThrough : .noPolicy, verdict: .allow)
    }

    @inline(__always)
    private func matches(_ rule: CompiledRule, _ flow: Flow, family: IPAddress.Family) -> Bool {
        guard rule.protocols.matches(flow.protocol) else { return false }
        if let version = rule.ipVersion, version != family { return false }
        return matches(rule.source, flow.source, port: flow.sourcePort, proto: flow.protocol)
            && matches(rule.destination, flow.destination, port: flow.port, proto: flow.protocol)
    }

    @inline(__always)
    private func matches(_ entity: CompiledEntity, _ endpoint: FlowEndpoint, port: UInt16?, proto: IPProtocol) -> Bool {
        if !entity.anyPeer {
            switch endpoint {
            case .pod(let index):
                guard entity.pods.contains(index) else { return false }
            case .external(let address):
                guard entity.peers.contains(where: { $0.matches(address) }) else { return false }
            }
        }
        if !entity.ports.isEmpty
            && !entity.ports.contains(where: { matches($0, endpoint, port: port, proto: proto, negated: false) })
        {
            return false
        }
        return !entity.notPorts.contains { matches($0, endpoint, port: port, proto: proto, negated: true) }
    }

    /// Whether a port criterion holds. An unknown (ephemeral) source port satisfies a positive criterion
    /// only if the criterion covers the whole ephemeral range, and a negative one if it overlaps it at all.
    private func matches(
        _ match: PortMatch,
        _ endpoint: FlowEndpoint,
        port: UInt16?,
        proto: IPProtocol,
        negated: Bool
    ) -> Bool {
        if let required = match.protocol, required != proto { return false }
        switch match.ports {
        case .any:
            return true
        case .range(let range):
            guard let port else { return negated ? range.overlaps(.ephemeral) : range.contains(.ephemeral) }
            return range.contains(port)
        case .named(let name):
            guard case .pod(let index) = endpoint, let port,
                let resolved = cluster.pods[index].resolve(namedPort: name, protocol: proto)
            else { return false }
            return resolved == port
        }
    }

    private func family(of flow: Flow) -> IPAddress.Family {
        for endpoint in [flow.source, flow.destination] {
            switch endpoint {
            case .external(let address): return address.family
            case .pod(let index):
                if let address = cluster.pods[index].addresses.first { return address.family }
            }
        }
        return .v4
    }
}
