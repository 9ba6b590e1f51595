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

        let endpoints = before.matrixEndpoints.map { (before.name(of: $0), $0, $0) }
        (changes, checkedFlows) = PolicyDiff.compare(
            before: before,
            after: after,
            endpoints: endpoints,
            classes: PortClassIndex(policySets: [old, new], cluster: cluster).probeClasses
        ) { source, destination in
            PolicyDiff.contains(egressAffected, source.before)
                || PolicyDiff.contains(ingressAffected, destination.before)
        }
    }

    /// Which verdicts change when the cluster changes too (a pod added, relabelled or deleted, a namespace
    /// relabelled): the flows from and to the `touched` endpoints (`namespace/name`), or every flow when nil.
    /// An endpoint that exists on one side only has no flows there: they count as denied.
    ///
    /// Flows between untouched pods need no check when only pods changed: a pod's labels, address and
    /// ports matter only to flows that it sends or receives.
    public init(
        old: (cluster: Cluster, policySet: PolicySet),
        new: (cluster: Cluster, policySet: PolicySet),
        touched: Set<String>?
    ) {
        let before = PolicyEngine(cluster: old.cluster, policySet: old.policySet)
        let after = PolicyEngine(cluster: new.cluster, policySet: new.policySet)
        var byName: [String: (before: FlowEndpoint?, after: FlowEndpoint?)] = [:]
        var order: [String] = []
        for endpoint in before.matrixEndpoints {
            let name = before.name(of: endpoint)
            if byName[name] == nil { order.append(name) }
            byName[name, default: (nil, nil)].before = endpoint
        }
        for endpoint in after.matrixEndpoints {
            let name = after.name(of: endpoint)
            if byName[name] == nil { order.append(name) }
            byName[name, default: (nil, nil)].after = endpoint
        }
        let endpoints = order.map { ($0, byName[$0]!.before, byName[$0]!.after) }
        changedPolicies = []
        (changes, checkedFlows) = PolicyDiff.compare(
            before: before,
            after: after,
            endpoints: endpoints,
            classes: PortClassIndex(
                policySets: [old.policySet, new.policySet],
                clusters: [old.cluster, new.cluster]
            ).probeClasses
        ) { source, destination in
            touched.map { $0.contains(source.name) || $0.contains(destination.name) } ?? true
        }
    }

    /// One side of the comparison: an endpoint by name, and what it is before and after (nil: absent).
    private typealias Side = (name: String, before: FlowEndpoint?, after: FlowEndpoint?)

    private static func compare(
        before: PolicyEngine,
        after: PolicyEngine,
        endpoints: [Side],
        classes: [PortClassIndex.PortClass],
        checks: (Side, Side) -> Bool
    ) -> ([Change], Int) {
        var changes: [Change] = []
        var checked = 0
        for source in endpoints {
            for destination in endpoints where source.name != destination.name {
                guard checks(source, destination) else { continue }
                var pending: (Change, PortRange)?
                for portClass in classes {
                    checked += 1
                    let was = verdict(before, source.before, destination.before, portClass)
                    let now = verdict(after, source.after, destination.after, portClass)
                    guard was != now else { continue }
                    let change = Change(
                        from: source.name,
                        to: destination.name,
                        protocol: portClass.protocol.description,
                        ports: "",
                        before: was,
                        after: now,
                        beforeReason: reason(before, source.before, destination.before, portClass),
                        afterReason: reason(after, source.after, destination.after, portClass)
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
        return (changes, checked)
    }

    /// The verdict of one flow on one side; a flow from or to an endpoint that is not there is denied.
    private static func verdict(
        _ engine: PolicyEngine,
        _ source: FlowEndpoint?,
        _ destination: FlowEndpoint?,
        _ portClass: PortClassIndex.PortClass
    ) -> Verdict {
        guard let source, let destination else { return .deny }
        let flow = Flow(
            source: source,
            destination: destination,
            protocol: portClass.protocol,
            port: portClass.range.lower
        )
        return engine.allows(flow) ? .allow : .deny
    }

    /// What decided one flow on one side: only worked out for the flows that change.
    private static func reason(
        _ engine: PolicyEngine,
        _ source: FlowEndpoint?,
        _ destination: FlowEndpoint?,
        _ portClass: PortClassIndex.PortClass
    ) -> String {
        guard let source, let destination else {
            return source == nil ? "the source does not exist" : "the destination does not exist"
        }
        let flow = Flow(
            source: source,
            destination: destination,
            protocol: portClass.protocol,
            port: portClass.range.lower
        )
        return engine.decide(flow).summary
    }

    private static func contains(_ bits: BitSet, _ endpoint: FlowEndpoint?) -> Bool {
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
