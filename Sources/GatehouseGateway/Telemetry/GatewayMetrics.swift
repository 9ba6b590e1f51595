import GatehouseCore
import GatehouseStore
import Prometheus
import Synchronization

/// The gateway's Prometheus metrics: the OpenTelemetry GenAI metrics under their Prometheus names
/// (units as suffixes, as the OTLP-to-Prometheus rules give them) and the gateway's own counters.
/// Label values come from configuration (models, the four routes, policies, detectors, error codes):
/// a path no route serves is counted as `unmatched`, never by its text. Identity labels appear only
/// when `metrics.identityLabels` names them. Past `maximumSeries` label sets, every new one is counted
/// in a single `_other` set, so no caller can grow the exposition.
final class GatewayMetrics: Sendable {
    static let maximumSeries = 5_000

    private struct RequestKey: Hashable {
        let route: String
        let model: String
        let decision: Verdict
        let reason: String
        /// An allowed request whose upstream failed (5xx): its reason is the GenAI `error.type`.
        let failed: Bool
        let identity: [String]
    }

    /// The labels of a counter of `observe(access:findings:)`.
    private enum CounterKey: Hashable {
        case verdict(tier: String, policy: String, action: String)
        case finding(direction: String, detector: String)
    }

    private struct RequestInstruments {
        let requests: Counter
        let cost: Counter
        let duration: ValueHistogram?
        let timeToFirstToken: ValueHistogram?
        let timePerOutputToken: ValueHistogram?
        let inputTokens: ValueHistogram?
        let outputTokens: ValueHistogram?
    }

    let registry = PrometheusCollectorRegistry()
    private let requests = Mutex<[RequestKey: RequestInstruments]>([:])
    private let counters = Mutex<[CounterKey: Counter]>([:])

    /// Counts one finished request.
    func observe(_ record: RequestOutcome, identityLabels: [String]) {
        let audit = record.audit
        let operation = Self.operation(of: audit.route)
        // Allowed requests have one too when their answer failed or was cut: `upstream_timeout`, `output_overrun`.
        let reason = audit.reason?.code ?? ""
        let key = RequestKey(
            route: operation != nil || audit.route == "/v1/models" ? audit.route : "unmatched",
            model: audit.model ?? "",
            decision: audit.decision,
            reason: reason,
            failed: audit.decision == .allow && audit.status >= 500,
            identity: identityLabels.map { audit.identityLabels?[$0] ?? "" }
        )
        let instruments = requests.withLock { table in
            if let known = table[key] { return known }
            let bounded =
                table.count < Self.maximumSeries
                ? key
                : RequestKey(
                    route: "_other",
                    model: "_other",
                    decision: key.decision,
                    reason: "_other",
                    failed: key.failed,
                    identity: key.identity.map { _ in "_other" }
                )
            let made = table[bounded] ?? makeInstruments(bounded, identityLabels: identityLabels, operation: operation)
            table[bounded] = made
            return made
        }
        instruments.requests.increment()
        if let cost = audit.cost, cost > .zero { instruments.cost.increment(by: cost.approximateDollars) }
        // The GenAI metrics describe model operations: requests that reached an upstream.
        guard audit.upstream != nil else { return }
        if let latency = audit.latencyMilliseconds { instruments.duration?.record(latency / 1000) }
        if record.stream, let first = audit.timeToFirstTokenMilliseconds {
            instruments.timeToFirstToken?.record(first / 1000)
            if let latency = audit.latencyMilliseconds, let output = audit.tokensOut, output > 1 {
                instruments.timePerOutputToken?.record((latency - first) / 1000 / Double(output - 1))
            }
        }
        if let input = audit.tokensIn { instruments.inputTokens?.record(Double(input)) }
        if let output = audit.tokensOut, operation != "embeddings" { instruments.outputTokens?.record(Double(output)) }
    }

    /// Counts each rule hit of an access decision, and each guardrail finding: looked up and counted under
    /// one lock, with no array made per request.
    func observe(access: Evaluation?, findings: [GuardrailFinding]?) {
        let tiers = access?.tiers ?? []
        guard !tiers.isEmpty || findings?.isEmpty == false else { return }
        counters.withLock { table in
            for tier in tiers {
                for hit in tier.hits {
                    guard let action = hit.action else { continue }
                    let key = CounterKey.verdict(tier: tier.tier, policy: hit.policy.name, action: action.rawValue)
                    counter(key, in: &table).increment()
                }
                if let end = tier.endOfTier {
                    counter(.verdict(tier: tier.tier, policy: "end-of-tier", action: end.rawValue), in: &table)
                        .increment()
                }
            }
            for finding in findings ?? [] {
                // Direction and detector, never the position.
                counter(.finding(direction: finding.direction.rawValue, detector: finding.detector), in: &table)
                    .increment()
            }
        }
    }

    /// Sets the gauges read at scrape time: budgets, upstream health and the flow aggregator.
    func refresh(budgets: [BudgetStatus], upstreams: [(model: String, origin: String, healthy: Bool)]) {
        for budget in budgets {
            let labels = [("scope", budget.scope), ("period", budget.period.rawValue)]
            gauge("gatehouse_budget_limit_dollars", "The budget's limit in US dollars.", labels).set(
                budget.limit.approximateDollars
            )
            gauge("gatehouse_budget_spent_dollars", "Settled spend in the budget's current window.", labels)
                .set(budget.spent.approximateDollars)
            gauge("gatehouse_budget_reserved_dollars", "Spend reserved by requests in flight.", labels)
                .set(budget.reserved.approximateDollars)
            gauge("gatehouse_budget_remaining_dollars", "What is left of the budget in its current window.", labels)
                .set(budget.remaining.approximateDollars)
        }
        for upstream in upstreams {
            gauge(
                "gatehouse_upstream_healthy",
                "1 when the upstream passes its health checks, 0 when it does not.",
                [("model", upstream.model), ("upstream", upstream.origin)]
            ).set(upstream.healthy ? 1.0 : 0.0)
        }
    }

    /// The text exposition format.
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)]) -> Gauge {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
            labels: labels
        )
    }

    private func counter(_ key: CounterKey, in table: inout [CounterKey: Counter]) -> Counter {
        if let known = table[key] { return known }
        let made: Counter
        switch key {
        case .verdict(let tier, let policy, let action):
            made = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    metricName: "gatehouse_policy_verdicts",
                    unitName: "total",
                    helpText: "Model access rule hits, by tier, policy and action (end-of-tier for a tier's default)."
                ),
                labels: [("tier", tier), ("policy", policy), ("action", action)]
            )
        case .finding(let direction, let detector):
            made = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    metricName: "gatehouse_guardrail_findings",
                    unitName: "total",
                    helpText: "Guardrail findings, by direction (prompt or answer) and detector."
                ),
                labels: [("direction", direction), ("detector", detector)]
            )
        }
        table[key] = made
        return made
    }

    private func makeInstruments(_ key: RequestKey, identityLabels: [String], operation: String?) -> RequestInstruments
    {
        let identity = zip(identityLabels, key.identity).map { ("identity_\(Self.labelName($0.0))", $0.1) }
        let labels = [
            ("route", key.route), ("model", key.model), ("decision", key.decision.rawValue), ("reason", key.reason),
        ]
        let requests = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "gatehouse_requests",
                unitName: "total",
                helpText: "Requests on the data plane, by route, model, decision and reason."
            ),
            labels: labels + identity
        )
        let cost = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "gatehouse_cost_dollars",
                unitName: "total",
                helpText: "What requests cost at the configured prices, in US dollars."
            ),
            labels: [("model", key.model)] + identity
        )
        guard let operation, key.decision == .allow else {
            return RequestInstruments(
                requests: requests,
                cost: cost,
                duration: nil,
                timeToFirstToken: nil,
                timePerOutputToken: nil,
                inputTokens: nil,
                outputTokens: nil
            )
        }
        var genAI = [
            ("gen_ai_operation_name", operation), ("gen_ai_provider_name", "openai"),
            ("gen_ai_request_model", key.model),
        ]
        if key.failed { genAI.append(("error_type", key.reason.isEmpty ? "_OTHER" : key.reason)) }
        func histogram(
            _ name: String,
            _ help: String,
            _ buckets: [Double],
            _ extra: [(String, String)] = []
        )
            -> ValueHistogram
        {
            registry.makeValueHistogram(
                descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help),
                labels: genAI + extra,
                buckets: buckets
            )
        }
        let tokens = "Tokens used per request (gen_ai.client.token.usage), by token type."
        return RequestInstruments(
            requests: requests,
            cost: cost,
            duration: histogram(
                "gen_ai_server_request_duration_seconds",
                "Time to answer a model request (gen_ai.server.request.duration).",
                GenAIBuckets.requestDuration
            ),
            timeToFirstToken: histogram(
                "gen_ai_server_time_to_first_token_seconds",
                "Time to the first piece of a streamed answer (gen_ai.server.time_to_first_token).",
                GenAIBuckets.timeToFirstToken
            ),
            timePerOutputToken: histogram(
                "gen_ai_server_time_per_output_token_seconds",
                "Time per output token after the first (gen_ai.server.time_per_output_token).",
                GenAIBuckets.timePerOutputToken
            ),
            inputTokens: histogram(
                "gen_ai_client_token_usage",
                tokens,
                GenAIBuckets.tokens,
                [("gen_ai_token_type", "input")]
            ),
            outputTokens: histogram(
                "gen_ai_client_token_usage",
                tokens,
                GenAIBuckets.tokens,
                [("gen_ai_token_type", "output")]
            )
        )
    }

    /// The GenAI operation of a route, or nil for routes that are not model operations.
    static func operation(of route: String) -> String? {
        switch route {
        case "/v1/chat/completions": "chat"
        case "/v1/completions": "text_completion"
        case "/v1/embeddings": "embeddings"
        default: nil
        }
    }

    /// A label key as a Prometheus label name: `app.kubernetes.io/name` → `app_kubernetes_io_name`.
    static func labelName(_ key: String) -> String {
        String(key.map { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII ? $0 : "_" })
    }
}
