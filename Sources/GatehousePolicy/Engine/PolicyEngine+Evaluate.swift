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
        let context = FlowContext(flow, engine: self)
        if context.sourcePod >= 0 && context.sourcePod == context.destinationPod { return true }
        var skip = SkipTrace()
        if context.sourcePod >= 0,
            evaluate(.egress, pod: context.sourcePod, context, staged: staged, recorder: &skip).verdict == .deny
        {
            return false
        }
        if context.destinationPod >= 0,
            evaluate(.ingress, pod: context.destinationPod, context, staged: staged, recorder: &skip).verdict == .deny
        {
            return false
        }
        return true
    }

    /// The verdict of one side of a flow: `pod`'s ingress or egress, without a trace.
    func verdict(of direction: TrafficDirection, pod: Int, _ flow: Flow, staged: Bool = false) -> Verdict {
        var skip = SkipTrace()
        return evaluate(direction, pod: pod, FlowContext(flow, engine: self), staged: staged, recorder: &skip).verdict
    }

    /// Whether any staged policy applies to this pod in this direction.
    public func hasStagedPolicies(pod: Int, direction: TrafficDirection) -> Bool {
        let slot = (direction == .ingress ? 0 : cluster.pods.count) + pod
        return sliceRecords[Int(sliceRanges[2 * slot])..<Int(sliceRanges[2 * slot + 1])].contains {
            $0.pendingStart >= 0
        }
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
        let context = FlowContext(flow, engine: self)
        var builder = TraceBuilder(engine: self)
        let outcome = evaluate(direction, pod: pod, context, staged: false, recorder: &builder)
        let enforced = Evaluation(outcome: outcome, tiers: builder.tiers)
        var staged: Evaluation?
        if hasStagedPolicies(pod: pod, direction: direction) {
            var stagedBuilder = TraceBuilder(engine: self)
            let stagedOutcome = evaluate(direction, pod: pod, context, staged: true, recorder: &stagedBuilder)
            staged = Evaluation(outcome: stagedOutcome, tiers: stagedBuilder.tiers)
        }
        return DirectionTrace(direction: direction, endpoint: label, enforced: enforced, staged: staged)
    }

    /// Calico's per-endpoint evaluation: tier by tier, policy by policy, rule by rule.
    func evaluate<Recorder: TraceRecorder>(
        _ direction: TrafficDirection,
        pod: Int,
        _ flow: FlowContext,
        staged: Bool,
        recorder: inout Recorder
    ) -> Outcome {
        let directionIndex = direction == .ingress ? 0 : 1
        let slot = directionIndex * cluster.pods.count + pod
        var applied = false
        for sliceIndex in Int(sliceRanges[2 &* slot])..<Int(sliceRanges[2 &* slot &+ 1]) {
            let slice = sliceRecords[sliceIndex]
            let usePending = staged && slice.pendingStart >= 0
            let start = Int(usePending ? slice.pendingStart : slice.enforcedStart)
            let end = Int(usePending ? slice.pendingEnd : slice.enforcedEnd)
            if start == end { continue }
            applied = true
            let tier = Int(slice.tier)
            let farPod = directionIndex == 0 ? flow.sourcePod : flow.destinationPod
            let slicePeers = usePending ? slice.pendingPeers : slice.enforcedPeers
            if !recorder.records,
                (flow.classID.map { !maskContains(usePending ? slice.pendingMask : slice.enforcedMask, $0) } ?? false)
                    || (farPod >= 0 && slicePeers >= 0 && !podIn(slicePeers, farPod, family: flow.familyIndex))
            {
                // No rule of the tier can match this port or peer: straight to the tier's default action.
                if tierDenies[tier] { return Outcome(reason: .endOfTier, verdict: .deny, tier: tiers[tier].name) }
                continue
            }
            recorder.enterTier(tier)
            var passed = false
            policies: for listIndex in start..<end {
                let policy = Int(policyLists[listIndex])
                let key = directionIndex &* policies.count &+ policy
                let peers = policyPeers[key]
                if (flow.classID.map { !maskContains(policyMasks[key], $0) } ?? false)
                    || (farPod >= 0 && peers >= 0 && !podIn(peers, farPod, family: flow.familyIndex))
                {
                    recorder.record(policy, rule: nil)
                    continue
                }
                for ruleIndex in Int(ruleBounds[2 &* key])..<Int(ruleBounds[2 &* key &+ 1])
                where matches(ruleIndex, flow) {
                    let rule = rules[ruleIndex]
                    recorder.record(policy, rule: ruleIndex)
                    switch rule.action {
                    case .log:
                        continue
                    case .allow, .deny:
                        return Outcome(
                            reason: .rule,
                            verdict: rule.action == .allow ? .allow : .deny,
                            policy: references[policy],
                            ruleIndex: Int(rule.index),
                            tier: tiers[tier].name
                        )
                    case .pass:
                        passed = true
                        break policies
                    }
                }
                recorder.record(policy, rule: nil)
            }
            if passed { continue }
            recorder.endOfTier(tierDenies[tier] ? .deny : .pass)
            if tierDenies[tier] {
                return Outcome(reason: .endOfTier, verdict: .deny, tier: tiers[tier].name)
            }
        }
        return Outcome(reason: applied ? .passedThrough : .noPolicy, verdict: .allow)
    }

    @inline(__always)
    private func maskContains(_ mask: Int32, _ classID: Int) -> Bool {
        masks[Int(mask) &* maskStride &+ (classID &>> 6)] & (1 &<< UInt64(classID & 63)) != 0
    }

    @inline(__always)
    private func matches(_ ruleIndex: Int, _ flow: FlowContext) -> Bool {
        let rule = rules[ruleIndex]
        if let classID = flow.classID {
            guard maskContains(rule.classMask, classID) else { return false }
        } else {
            let detail = details[ruleIndex]
            guard detail.protocols.matches(flow.flow.protocol),
                portsMatch(detail.destination, flow.flow.destination, port: flow.flow.port, proto: flow.flow.protocol)
            else { return false }
        }
        if rule.ipVersion != 0 && rule.ipVersion != flow.family { return false }
        if rule.sourcePeers >= 0
            && !peerMatches(
                rule.sourcePeers,
                pod: flow.sourcePod,
                endpoint: flow.flow.source,
                familyIndex: flow.familyIndex
            )
        {
            return false
        }
        if rule.destinationPeers >= 0
            && !peerMatches(
                rule.destinationPeers,
                pod: flow.destinationPod,
                endpoint: flow.flow.destination,
                familyIndex: flow.familyIndex
            )
        {
            return false
        }
        if rule.slowPorts {
            let detail = details[ruleIndex]
            if let targets = detail.serviceTargets, !serviceTargetsMatch(targets, flow.flow) { return false }
            return portsMatch(detail.source, flow.flow.source, port: flow.flow.sourcePort, proto: flow.flow.protocol)
                && portsMatch(
                    detail.destination,
                    flow.flow.destination,
                    port: flow.flow.port,
                    proto: flow.flow.protocol
                )
        }
        return true
    }

    /// Whether `pod` is in peer set `peers` for a connection of the given family (0 IPv4, 1 IPv6).
    @inline(__always)
    private func podIn(_ peers: Int32, _ pod: Int, family: Int) -> Bool {
        peerWords[Int(peerOffsets[Int(peers) &* 2 &+ family]) &+ (pod &>> 6)] & (1 &<< UInt64(pod & 63)) != 0
    }

    @inline(__always)
    private func peerMatches(_ peers: Int32, pod: Int, endpoint: FlowEndpoint, familyIndex: Int) -> Bool {
        if pod >= 0 { return podIn(peers, pod, family: familyIndex) }
        guard case .external(let address) = endpoint else { return false }
        return externalPeers[Int(peers)].contains { $0.matches(address) }
    }

    /// Whether the flow goes to an address and port a Service sends to (probes are after DNAT).
    private func serviceTargetsMatch(_ targets: Set<ServiceTarget>, _ flow: Flow) -> Bool {
        func sendsTo(_ address: IPAddress) -> Bool {
            targets.contains(ServiceTarget(address: address, port: flow.port, protocol: flow.protocol))
                || targets.contains(ServiceTarget(address: address, port: nil, protocol: flow.protocol))
        }
        switch flow.destination {
        case .pod(let index): return cluster.pods[index].addresses.contains(where: sendsTo)
        case .external(let address): return sendsTo(address)
        }
    }

    private func portsMatch(_ entity: EntityMatch, _ endpoint: FlowEndpoint, port: UInt16?, proto: IPProtocol) -> Bool {
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
}
