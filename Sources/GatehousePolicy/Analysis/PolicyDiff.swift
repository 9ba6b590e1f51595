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

    /// The changes; with a listing maximum, the first that many of those opened and of those closed.
    public let changes: [Change]
    /// How many (source, destination, protocol, port range) changes there are in all: opened (now
    /// allowed) and closed (now denied).
    public let openedCount: Int
    public let closedCount: Int
    /// Flows evaluated (pairs times port ranges), to show how much was checked.
    public let checkedFlows: Int
    /// The policies added, removed or changed, by reference.
    public let changedPolicies: [String]

    /// `listing`: nil lists every change, each run of ports cut where what decides the flow changes;
    /// a number lists at most that many opened and that many closed, runs cut only where the verdicts
    /// change, which costs a trace only for the flows listed.
    public init(cluster: Cluster, old: PolicySet, new: PolicySet, listing: Int? = nil) {
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
        (changes, checkedFlows, openedCount, closedCount) = PolicyDiff.compare(
            before: before,
            after: after,
            endpoints: endpoints,
            classes: PortClassIndex(policySets: [old, new], cluster: cluster).probeClasses,
            listing: listing
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
        touched: Set<String>?,
        listing: Int? = nil
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
        var changed: Set<String> = []
        for (side, other) in [(old.policySet, new.policySet), (new.policySet, old.policySet)] {
            for policy in side.policies where !other.policies.contains(policy) {
                changed.insert(policy.reference.description)
            }
        }
        changedPolicies = changed.sorted()
        (changes, checkedFlows, openedCount, closedCount) = PolicyDiff.compare(
            before: before,
            after: after,
            endpoints: endpoints,
            classes: PortClassIndex(
                policySets: [old.policySet, new.policySet],
                clusters: [old.cluster, new.cluster]
            ).probeClasses,
            listing: listing
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
        listing maximum: Int?,
        checks: (Side, Side) -> Bool
    ) -> (changes: [Change], checked: Int, opened: Int, closed: Int) {
        var changes: [Change] = []
        var checked = 0
        var totals: [Verdict: Int] = [:]
        for source in endpoints {
            for destination in endpoints where source.name != destination.name {
                guard checks(source, destination) else { continue }
                // A run of adjacent port classes that change alike, and its reasons when they are known.
                var pending: (portClass: PortClassIndex.PortClass, range: PortRange, was: Verdict, reasons: [String]?)?
                func flush() {
                    guard let run = pending else { return }
                    totals[run.was == .allow ? .deny : .allow, default: 0] += 1
                    let now: Verdict = run.was == .allow ? .deny : .allow
                    guard maximum.map({ limit in changes.count(where: { $0.after == now }) < limit }) ?? true else {
                        return
                    }
                    let reasons =
                        run.reasons ?? [
                            reason(before, source.before, destination.before, run.portClass),
                            reason(after, source.after, destination.after, run.portClass),
                        ]
                    changes.append(
                        Change(
                            from: source.name,
                            to: destination.name,
                            protocol: run.portClass.protocol.description,
                            ports: run.range.description,
                            before: run.was,
                            after: now,
                            beforeReason: reasons[0],
                            afterReason: reasons[1]
                        )
                    )
                }
                for portClass in classes {
                    checked += 1
                    let was = verdict(before, source.before, destination.before, portClass)
                    let now = verdict(after, source.after, destination.after, portClass)
                    guard was != now else { continue }
                    // Listing every change, runs are cut where what decides changes; listing a few, only
                    // where the verdicts do, and reasons are worked out for the flows listed.
                    let reasons =
                        maximum == nil
                        ? [
                            reason(before, source.before, destination.before, portClass),
                            reason(after, source.after, destination.after, portClass),
                        ] : nil
                    if let run = pending, run.portClass.protocol == portClass.protocol, run.was == was,
                        run.reasons == reasons, UInt32(run.range.upper) + 1 == UInt32(portClass.range.lower)
                    {
                        pending?.range = PortRange(run.range.lower, portClass.range.upper)
                        continue
                    }
                    flush()
                    pending = (portClass, portClass.range, was, reasons)
                }
                flush()
            }
        }
        return (changes, checked, totals[.allow] ?? 0, totals[.deny] ?? 0)
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
