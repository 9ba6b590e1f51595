import GatehouseCore
import GatehousePolicy
import GatehouseTesting
import Testing

/// Model access is decided by `PolicyEngine`. The reference below is the walk the gateway used before
/// (its own loop over tiers, policies and rules), kept here as the oracle: over thousands of generated
/// access policy sets, both give the same verdicts and the same traces.
@Suite struct ModelAccessTests {
    static let keys = ["team", "role", "env"]
    static let values = ["a", "b", "c"]

    @Test("the engine decides model access exactly as the walk it replaced, verdicts and traces")
    func sameAsTheWalkItReplaced() {
        var random = SeededGenerator(seed: 0xACCE_5500)
        var compared = 0
        var verdicts: [Verdict: Int] = [:]
        var reasons: Set<Outcome.Reason> = []
        var passedTiers = 0
        var logHits = 0
        for round in 0..<2_000 {
            let tiers = Self.tiers(&random)
            let policies = Self.policies(tiers: tiers, &random)
            let models = (0..<3).map { AccessSubject(name: "m\($0)", labels: Self.labels(&random)) }
            let callers = (0..<4).map { AccessSubject(name: "c\($0)", labels: Self.labels(&random)) }
            let access = ModelAccess(policies: AccessPolicySet(tiers: tiers, policies: policies), models: models)
            let reference = ReferenceWalk(tiers: tiers, policies: policies)
            for caller in callers {
                for (index, model) in models.enumerated() {
                    let expected = reference.evaluate(caller: caller, model: model)
                    let actual = access.evaluate(caller: caller, model: index)
                    #expect(actual == expected, "round \(round), \(caller.name) → \(model.name)")
                    compared += 1
                    verdicts[actual.verdict, default: 0] += 1
                    reasons.insert(actual.outcome.reason)
                    passedTiers += actual.tiers.filter { $0.endOfTier == .pass }.count
                    logHits += actual.tiers.flatMap(\.hits).filter { $0.action == .log }.count
                }
            }
        }
        // The generated sets reach every path: both verdicts, all three reasons, passing tiers, Log rules.
        #expect(compared == 24_000)
        #expect(verdicts[.allow, default: 0] > 2_000 && verdicts[.deny, default: 0] > 2_000)
        #expect(reasons == [.rule, .endOfTier, .noAllow])
        #expect(passedTiers > 500 && logHits > 500)
    }

    @Test("callers to whom the same policies apply share one compiled answer, and each gets its own trace")
    func answersPerApplyingPolicies() throws {
        let models = [AccessSubject(name: "small", labels: [:]), AccessSubject(name: "large", labels: [:])]
        let access = ModelAccess(
            policies: AccessPolicySet(policies: [
                AccessPolicy(
                    name: "admins",
                    order: 1,
                    selector: try Selector(parsing: "role == 'admin'"),
                    rules: [AccessRule(action: .allow, modelNames: nil, modelSelector: nil)]
                ),
                AccessPolicy(
                    name: "small-for-all",
                    order: 2,
                    selector: .all,
                    rules: [AccessRule(action: .allow, modelNames: ["small"], modelSelector: nil)]
                ),
            ]),
            models: models
        )
        for name in ["a", "b", "c"] {
            let admin = AccessSubject(name: name, labels: ["role": "admin"])
            let user = AccessSubject(name: "user-\(name)", labels: [:])
            #expect(access.evaluate(caller: admin, model: 1).outcome.policy?.name == "admins")
            #expect(access.evaluate(caller: user, model: 0).outcome.policy?.name == "small-for-all")
            let denied = access.evaluate(caller: user, model: 1)
            #expect(denied.verdict == .deny && denied.outcome.reason == .endOfTier)
            #expect(denied.tiers.map(\.hits.count) == [1])
        }
    }

    // MARK: generated access policy sets

    static func labels(_ random: inout SeededGenerator) -> Labels {
        var labels: Labels = [:]
        for key in keys where Bool.random(using: &random) { labels[key] = values.randomElement(using: &random)! }
        return labels
    }

    static func selector(_ random: inout SeededGenerator, depth: Int = 0) -> Selector {
        let key = keys.randomElement(using: &random)!
        let value = values.randomElement(using: &random)!
        switch Int.random(in: 0..<(depth == 0 ? 8 : 6), using: &random) {
        case 0: return .all
        case 1: return .equal(key, value)
        case 2: return .notEqual(key, value)
        case 3: return .has(key)
        case 4: return .in(key, Array(values.shuffled(using: &random).prefix(2)))
        case 5: return .notIn(key, [value])
        case 6: return .not(selector(&random, depth: depth + 1))
        default: return .and([selector(&random, depth: depth + 1), selector(&random, depth: depth + 1)])
        }
    }

    static func tiers(_ random: inout SeededGenerator) -> [Tier] {
        let orders: [Double?] = [nil, 1, 5, 5, 2_000_000]
        var tiers = (0..<Int.random(in: 0...3, using: &random)).map { index in
            Tier(
                name: "t\(index)",
                order: orders.randomElement(using: &random)!,
                defaultAction: Bool.random(using: &random) ? .deny : .pass
            )
        }
        // Now and then the default tier itself is redeclared, passing at its end.
        if Int.random(in: 0..<5, using: &random) == 0 {
            tiers.append(Tier(name: Tier.default.name, order: 1_000_000, defaultAction: .pass))
        }
        return tiers
    }

    static func policies(tiers: [Tier], _ random: inout SeededGenerator) -> [AccessPolicy] {
        let tierNames = [Tier.default.name] + tiers.map(\.name)
        let orders: [Double?] = [nil, 1, 2, 2, 3.5]
        let actions: [RuleAction] = [.allow, .deny, .pass, .log]
        return (0..<Int.random(in: 0...6, using: &random)).map { index in
            let rules = (0..<Int.random(in: 0...3, using: &random)).map { _ in
                AccessRule(
                    action: actions.randomElement(using: &random)!,
                    modelNames: Bool.random(using: &random)
                        ? nil
                        : Set(
                            (0..<3).map { "m\($0)" }.shuffled(using: &random).prefix(
                                Int.random(in: 1...2, using: &random)
                            )
                        ),
                    modelSelector: Bool.random(using: &random) ? nil : selector(&random),
                    location: SourceLocation(
                        file: "gatehouse.yaml",
                        line: Int.random(in: 1...200, using: &random),
                        column: 9
                    )
                )
            }
            return AccessPolicy(
                name: "p\(index)",
                tier: tierNames.randomElement(using: &random)!,
                order: orders.randomElement(using: &random)!,
                selector: selector(&random),
                rules: rules,
                location: SourceLocation(file: "gatehouse.yaml", line: 300 + index, column: 7)
            )
        }
    }
}

/// The access walk the gateway ran before model access was compiled into `PolicyEngine`, unchanged but
/// for naming sources `file:line` as the engine's traces do.
private struct ReferenceWalk {
    private let tiers: [(tier: Tier, policies: [AccessPolicy])]

    init(tiers: [Tier], policies: [AccessPolicy]) {
        var allTiers = tiers
        if !allTiers.contains(where: { $0.name == Tier.default.name }) { allTiers.append(.default) }
        let ordered = allTiers.sorted { Self.precedes($0.order, $0.name, $1.order, $1.name) }
        self.tiers = ordered.map { tier in
            (
                tier,
                policies.filter { $0.tier == tier.name }.sorted { Self.precedes($0.order, $0.name, $1.order, $1.name) }
            )
        }
    }

    func evaluate(caller: AccessSubject, model: AccessSubject) -> Evaluation {
        var traces: [TierTrace] = []
        for entry in tiers {
            let applying = entry.policies.filter { $0.selector.matches(caller.labels) }
            guard !applying.isEmpty else { continue }
            var trace = TierTrace(tier: entry.tier.name)
            var passed = false
            policies: for policy in applying {
                let reference = PolicyReference(
                    kind: "ModelAccessPolicy",
                    namespace: nil,
                    name: policy.name,
                    tier: policy.tier
                )
                for (index, rule) in policy.rules.enumerated() where rule.matches(model) {
                    trace.hits.append(
                        PolicyHit(
                            policy: reference,
                            ruleIndex: index,
                            action: rule.action,
                            source: rule.location?.fileAndLine
                        )
                    )
                    switch rule.action {
                    case .log:
                        continue
                    case .pass:
                        passed = true
                        break policies
                    case .allow, .deny:
                        traces.append(trace)
                        let outcome = Outcome(
                            reason: .rule,
                            verdict: rule.action == .allow ? .allow : .deny,
                            policy: reference,
                            ruleIndex: index,
                            tier: entry.tier.name
                        )
                        return Evaluation(outcome: outcome, tiers: traces)
                    }
                }
                if !trace.hits.contains(where: { $0.policy == reference }) {
                    trace.hits.append(
                        PolicyHit(policy: reference, ruleIndex: nil, action: nil, source: policy.location?.fileAndLine)
                    )
                }
            }
            if passed || entry.tier.defaultAction == .pass {
                if !passed { trace.endOfTier = .pass }
                traces.append(trace)
                continue
            }
            trace.endOfTier = .deny
            traces.append(trace)
            return Evaluation(
                outcome: Outcome(reason: .endOfTier, verdict: .deny, tier: entry.tier.name),
                tiers: traces
            )
        }
        return Evaluation(outcome: Outcome(reason: .noAllow, verdict: .deny), tiers: traces)
    }

    private static func precedes(_ lhsOrder: Double?, _ lhsName: String, _ rhsOrder: Double?, _ rhsName: String) -> Bool
    {
        switch (lhsOrder, rhsOrder) {
        case (let lhs?, let rhs?) where lhs != rhs: return lhs < rhs
        case (.some, .none): return true
        case (.none, .some): return false
        default: return lhsName < rhsName
        }
    }
}
