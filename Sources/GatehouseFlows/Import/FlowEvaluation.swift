import GatehouseCore
import GatehousePolicy

/// Maps observed flows onto the cluster state and evaluates each with the loaded policy set (and,
/// when given, a proposed one): the flow records to store, where the policies disagree with what was
/// observed, and what the proposal would change.
public struct FlowEvaluation: Sendable {
    /// One observed flow with what the policies say of it.
    public struct Outcome: Sendable, Hashable {
        public let observed: ObservedFlow
        /// Nil when an end could not be mapped onto the cluster state (or it carries no port).
        public let decision: Decision?
        public let proposed: Decision?
    }

    public let outcomes: [Outcome]

    public init(_ flows: [ObservedFlow], engine: PolicyEngine?, proposed: PolicyEngine? = nil) {
        outcomes = flows.map { observed in
            guard let engine, let flow = Self.flow(observed, in: engine) else {
                return Outcome(observed: observed, decision: nil, proposed: nil)
            }
            let proposedDecision = proposed.flatMap { other in Self.flow(observed, in: other).map(other.decide) }
            return Outcome(observed: observed, decision: engine.decide(flow), proposed: proposedDecision)
        }
    }

    /// Flows whose observed action the loaded policies do not give.
    public var disagreements: [Outcome] {
        outcomes.filter { outcome in
            guard let decision = outcome.decision, let action = outcome.observed.action, action != .pass else {
                return false
            }
            return FlowAction(decision.verdict) != action
        }
    }

    /// Flows the proposed policy set would decide otherwise.
    public var changes: [Outcome] {
        outcomes.filter { outcome in
            guard let decision = outcome.decision, let proposed = outcome.proposed else { return false }
            return decision.verdict != proposed.verdict
        }
    }

    /// The flow records: the observed action (or the evaluated one when the log gives none), with the
    /// loaded policies' trace when evaluated, else the trace the log carried.
    public var records: [FlowRecord] {
        outcomes.map { outcome in
            let observed = outcome.observed
            var action = observed.action ?? outcome.decision.map { FlowAction($0.verdict) } ?? .allow
            if action == .pass, let decision = outcome.decision { action = FlowAction(decision.verdict) }
            var reason = observed.dropReason
            if action == .deny, reason == nil, let decision = outcome.decision {
                let deciding = decision.egress.verdict == .deny ? decision.egress : decision.ingress
                reason = deciding.enforced.outcome.reason.rawValue
            }
            return FlowRecord(
                start: observed.start,
                end: observed.end,
                source: observed.source.peer,
                sourceLabels: observed.source.labels,
                destination: observed.destination.peer,
                destinationLabels: observed.destination.labels,
                protocol: observed.protocol.description,
                port: observed.port,
                action: action,
                reason: action == .allow ? nil : reason,
                reporter: observed.reporter,
                policies: outcome.decision.map(FlowTrace.init) ?? observed.policies,
                counters: observed.counters
            )
        }
    }

    /// The engine's view of an observed flow: pods by namespace and name (or name prefix), else by
    /// address; nil when an end is neither, or there is no port for a protocol that has ports.
    static func flow(_ observed: ObservedFlow, in engine: PolicyEngine) -> Flow? {
        guard let source = endpoint(observed.source, in: engine),
            let destination = endpoint(observed.destination, in: engine)
        else { return nil }
        let portless = observed.protocol == .icmp || observed.protocol == .icmpv6
        guard let port = observed.port ?? (portless ? 0 : nil) else { return nil }
        return Flow(source: source, destination: destination, protocol: observed.protocol, port: port)
    }

    private static func endpoint(_ peer: ObservedFlow.Peer, in engine: PolicyEngine) -> GatehousePolicy.FlowEndpoint? {
        let cluster = engine.cluster
        if let namespace = peer.namespace {
            if let name = peer.name, let pod = cluster.pod(named: "\(namespace)/\(name)") { return .pod(pod) }
            if let prefix = peer.namePrefix,
                let pod = cluster.pods.indices.first(where: {
                    cluster.pods[$0].namespace == namespace && cluster.pods[$0].name.hasPrefix(prefix)
                })
            {
                return .pod(pod)
            }
        }
        guard let address = peer.address else { return nil }
        if let pod = cluster.pod(owning: address) { return .pod(pod) }
        return .external(address)
    }
}
