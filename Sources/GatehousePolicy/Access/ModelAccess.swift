import GatehouseCore
import Synchronization

/// Whether a caller may use a model, decided by `PolicyEngine` over `AccessPolicySet`'s compiled form.
///
/// One difference from Calico makes the gateway fail closed: where no rule allows (no policy applied, or
/// every tier passed), the answer is deny, with the trace of what was consulted.
///
/// The engine is compiled with the caller as an endpoint. Callers to whom the same policies apply get
/// the same answers, so each set of applying policies is compiled once, for every model at a time, and
/// a request costs a selector test per policy and a lookup.
public final class ModelAccess: Sendable {
    /// Distinct sets of applying policies kept; beyond this the answers are all computed again.
    static let answerLimit = 4_096

    public let policies: AccessPolicySet
    public let models: [AccessSubject]
    private let answers = Mutex<[BitSet: [Evaluation]]>([:])

    /// Access to `models`, which are asked for by their position in this list.
    public init(policies: AccessPolicySet, models: [AccessSubject]) {
        self.policies = policies
        self.models = models
    }

    /// The verdict for `caller` using `models[model]`, with every tier and policy consulted.
    public func evaluate(caller: AccessSubject, model: Int) -> Evaluation {
        evaluations(caller: caller)[model]
    }

    /// The verdicts for `caller` using each of `models`, in their order.
    public func evaluations(caller: AccessSubject) -> [Evaluation] {
        var applying = BitSet(count: policies.policies.count)
        for (index, policy) in policies.policies.enumerated() where policy.selector.matches(caller.labels) {
            applying.insert(index)
        }
        if let known = answers.withLock({ $0[applying] }) { return known }
        let computed = compile(for: caller)
        answers.withLock { answers in
            if answers.count >= Self.answerLimit { answers.removeAll(keepingCapacity: true) }
            answers[applying] = computed
        }
        return computed
    }

    /// The caller's evaluation towards every model, from an engine compiled with the caller and the models.
    private func compile(for caller: AccessSubject) -> [Evaluation] {
        let callerPod = Endpoint(namespace: AccessPolicySet.callerNamespace, name: "caller", labels: caller.labels)
        // Models are named by position: two routes may not share a name, but a pod name is no place to rely on it.
        let modelPods = models.enumerated().map { index, model in
            Endpoint(namespace: AccessPolicySet.modelNamespace, name: "\(index)", labels: model.labels)
        }
        let cluster = Cluster(namespaces: [], pods: [callerPod] + modelPods)
        let engine = PolicyEngine(cluster: cluster, policySet: policies.policySet)
        let unknown = Evaluation(outcome: Outcome(reason: .noAllow, verdict: .deny), tiers: [])
        guard let source = cluster.pod(named: callerPod.description) else { return modelPods.map { _ in unknown } }
        return modelPods.map { modelPod in
            guard let destination = cluster.pod(named: modelPod.description) else { return unknown }
            let flow = Flow(source: .pod(source), destination: .pod(destination), protocol: .tcp, port: 443)
            let evaluation = engine.decide(flow).egress.enforced
            switch evaluation.outcome.reason {
            case .rule, .endOfTier:
                return evaluation
            case .noPolicy, .passedThrough, .noAllow, .unenforced, .loopback:
                return Evaluation(outcome: Outcome(reason: .noAllow, verdict: .deny), tiers: evaluation.tiers)
            }
        }
    }
}
