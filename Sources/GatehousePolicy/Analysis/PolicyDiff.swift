import GatehouseCore

/// Which (source, destination, port) verdicts change between two policy sets over the same cluster:
/// "what happens if I apply this".
///
/// Only flows that a changed policy can touch are checked: those leaving a pod a changed policy applies
/// to, or entering one; one port per range of ports no rule tells apart.
public struct PolicyDiff: Sendable {
    public struct Change: Sendable, Hashable, Codable {
        public let from: String
        public let to: String
        public let `protocol`: String
        public let ports: String
        public let before: Verdict
        public let after: Verdict
        /// What decided before and after.
        public let beforeReason: String
        public let afterReason: String
    }

    public let changes: [Change]
    /// Flows evaluated (pairs times port ranges), to show how much was checked.
    public let checkedFlows: Int
    /// The policies added, removed or changed, by reference.
    public let changedPolicies: [String]

    public init(cluster: Cluster, old: PolicySet, new: PolicySet) {
        let before = PolicyEngine(cluster: cluster, policySet: old)
        let after = PolicyEngine(cluster: cluster, policySet: new)
        let podCount = cluster.pods.count

        var egressAffected = BitSet(count: podCount)
        var ingressAffected = BitSet(count: podCount)
        var changedPolicies: [String] = []
        let tiersChanged = old.tiers != new.tiers
        for (engine, other) in [(before, after), (after, before)] {
            for (index, policy) in engine.policies.enumerated() where !other.policies.contains(policy) {
                let reference = policy.reference.description
                if !changedPolicies.contains(reference) { changedPolicies.append(reference) }
                if policy.types.contains(.egress) { egressAffected.formUnion(engine.subjects[index]) }
                if policy.types.contains(.ingress) { ingressAffected.formUnion(engine.subjects[index]) }
            }
        }
        if tiersChanged {
            egressAffected = BitSet.full(count: podCount)
            ingressAffected = egressAffected
        }
        self.changedPolicies = changedPolicies.sorted()

        let classes = PortClassIndex(policySets: [old, new], cluster: cluster).probeClasses
        let endpoints = before.matrixEndpoints
        var changes: [Change] = []
        var checked = 0
        for source in endpoints {
            let sourceAffected = PolicyDiff.contains(egressAffected, source)
            for destination in endpoints where source != destination {
                guard sourceAffected || PolicyDiff.contains(ingressAffected, destination) else { continue }
                var pending: (Change, PortRange)?
                for portClass in classes {
                    checked += 1
                    let flow = Flow(
                        source: source,
                        destination: destination,
                        protocol: portClass.protocol,
                        port: portClass.range.lower
                    )
                    let was = before.allows(flow)
                    let now = after.allows(flow)
                    guard was != now else { continue }
                    let oldDecision = before.decide(flow)
                    let newDecision = after.decide(flow)
                    let change = Change(
                        from: oldDecision.source,
                        to: oldDecision.destination,
                        protocol: portClass.protocol.description,
                        ports: "",
                        before: oldDecision.verdict,
                        after: newDecision.verdict,
                        beforeReason: oldDecision.summary,
                        afterReason: newDecision.summary
                    )
                    if let (previous, range) = pending, previous.protocol == change.protocol,
                        previous.beforeReason == change.beforeReason, previous.afterReason == change.afterReason,
                        UInt32(range.upper) + 1 == UInt32(portClass.range.lower)
                    {
                        pending = (previous, PortRange(range.lower, portClass.range.upper))
                        continue
                    }
                    if let (previous, range) = pending { changes.append(previous.with(ports: range)) }
                    pending = (change, portClass.range)
                }
                if let (previous, range) = pending { changes.append(previous.with(ports: range)) }
            }
        }
        self.changes = changes
        self.checkedFlows = checked
    }

    private static func contains(_ bits: BitSet, _ endpoint: FlowEndpoint) -> Bool {
        if case .pod(let index) = endpoint { return bits.contains(index) }
        return false
    }
}

extension PolicyDiff.Change {
    fileprivate func with(ports range: PortRange) -> PolicyDiff.Change {
        PolicyDiff.Change(
            from: from,
            to: to,
            protocol: `protocol`,
            ports: range.description,
            before: before,
            after: after,
            beforeReason: beforeReason,
            afterReason: afterReason
        )
    }
}
