import GatehouseCore
import GatehousePolicy
import GatehouseStore
import NIOCore
import NIOHTTP1

/// One request's course once its head was admitted, from its body to its settlement, without I/O.
/// Events go in (the body, the caller a token names, the guardrails' verdict, the quotas' answer, the
/// budget reservation, the upstream's outcome, the settlement), each with the instant it happened, and
/// the one action each calls for comes out (verify a token, scan, admit against quotas, reserve,
/// forward, settle, write the end, refuse, answer, record). `DataPlane` carries the actions out with
/// the event loop, the store and the upstreams; tests drive the machine alone.
///
/// The request's `RequestOutcome` is built up in place as the request goes; every action that ends the
/// request carries it, so it is recorded once, whichever way the request ends. An event the current
/// state does not expect (a settlement before an answer) ends nothing and answers `.none`.
struct RequestMachine {
    enum Event {
        /// The whole body arrived.
        case received(ByteBuffer)
        /// The bearer token was verified: the caller it names, or nil when it is not valid.
        case identified(Identity?)
        /// The guardrails' verdict on the prompt, nil when the scan could not run; `clientLeft` when the
        /// client went away meanwhile.
        case scanned(PromptGuard.Verdict?, clientLeft: Bool)
        /// The quotas' answer, and whether the store could record the request at that moment.
        case quotas(QuotaBook.Admission, ledgerReachable: Bool)
        case reserved(BudgetReservation, LedgerOutcome)
        /// The upstream exchange ended: answered, failed, or left by the client.
        case answered(Forwarder.Outcome)
        /// The settlement and its audit record are durable (or failed: the caller's answer ends either way).
        case settled
    }

    enum Action {
        case none
        case verifyToken(String, JWTVerifier.Header, JWTVerifier)
        /// Scan the prompt with the caller's guardrails, on the event loop or, a large body, off it.
        case scan(ByteBuffer, [GuardrailPolicy], onLoop: Bool)
        case admitQuotas(SpendPlan)
        case reserve(Cost, against: [BudgetCharge])
        case forward(ModelRuntime, Forwarder.Request)
        /// Give the quotas what the request used, settle the ledger (then `.settled`), report the outcome.
        case settle(Settlement)
        /// The answer's last bytes, held back until its record was durable.
        case writeEnd
        /// Answer `error` and record the request (after giving `release` back to the quotas unused).
        case refuse(GatewayError, RequestOutcome, release: QuotaBook.Hold?)
        /// Answer 200 with this JSON and record the request.
        case answer(String, RequestOutcome)
        /// Record a request the client left: nothing is written.
        case record(RequestOutcome)
    }

    struct Settlement {
        let hold: QuotaBook.Hold
        let usage: TokenUsage
        /// What the ledger settles and records; nil when there is neither a budget nor an audit trail, and
        /// `.settled` follows at once.
        let ledger: Ledger?
        let outcome: RequestOutcome

        struct Ledger {
            let reservation: BudgetReservation?
            let cost: Cost
            let audit: AuditEntry?
        }
    }

    /// The caller and the model, once access allowed them, and what was read from the body.
    private struct Selection {
        let identity: Identity
        let model: ModelRuntime
        /// The guardrail policies that apply to the caller.
        let guardrails: [GuardrailPolicy]
        /// Of the body that is forwarded: read again when a guardrail redacted it.
        var inspected: RequestInspector.Inspected
    }

    private enum State {
        case awaitingBody
        case identifying
        case scanning(Selection)
        case admitting(Selection, SpendPlan)
        case reserving(Selection, SpendPlan, QuotaBook.Hold)
        case forwarding(Selection, SpendPlan, QuotaBook.Hold, BudgetReservation?)
        case settling(endPending: Bool)
        case done
    }

    /// Bodies up to this size are scanned by the guardrails on the connection's event loop (well under a
    /// millisecond); larger ones on the thread pool.
    static let largestBodyScannedOnTheLoop = 64 << 10

    /// The most of a request body a span carries with `captureContent: true`.
    static let capturedContentBytes = 16 << 10

    let request: AdmittedRequest
    private var state = State.awaitingBody
    /// The body that is forwarded: redacted when a guardrail redacted it.
    private var body = ByteBuffer()
    /// What the request came to so far.
    private var outcome: RequestOutcome

    init(request: AdmittedRequest) {
        self.request = request
        self.outcome = Self.outcome(of: request)
    }

    var route: DataPlane.Route { DataPlane.Route(rawValue: request.path) ?? .chatCompletions }

    mutating func handle(_ event: Event, now: ContinuousClock.Instant) -> Action {
        switch (state, event) {
        case (.awaitingBody, .received(let body)):
            self.body = body
            switch request.authentication {
            case .identified(let identity):
                return proceed(identity, now: now)
            case .token(let token, let header, let verifier):
                state = .identifying
                return .verifyToken(token, header, verifier)
            case .rejected:
                return refuse(.unauthenticated)
            }
        case (.identifying, .identified(let identity?)):
            return proceed(identity, now: now)
        case (.identifying, .identified(nil)):
            outcome.reason = .tokenNotValid
            return refuse(.unauthenticated)
        case (.scanning(let selection), .scanned(let verdict, let clientLeft)):
            return scanned(verdict, clientLeft: clientLeft, selection: selection, now: now)
        case (.admitting(let selection, let plan), .quotas(let admission, let ledgerReachable)):
            switch admission {
            case .refused(let limit, let retryAfter, let headers):
                return refuse(.rateLimited(limit, retryAfter: retryAfter, headers: headers), detail: limit)
            case .unavailable:
                return refuse(.quotasUnavailable, detail: "quotas: the store cannot be reached")
            case .admitted(let hold):
                guard ledgerReachable else {
                    return refuse(.ledgerUnavailable, detail: "the store cannot be reached", release: hold)
                }
                guard !plan.budgets.isEmpty else {
                    return forward(selection, plan: plan, hold: hold, reservation: nil, now: now)
                }
                state = .reserving(selection, plan, hold)
                return .reserve(plan.worstCase, against: plan.budgets)
            }
        case (.reserving(let selection, let plan, let hold), .reserved(let reservation, let result)):
            switch result {
            case .done, .held:
                return forward(selection, plan: plan, hold: hold, reservation: reservation, now: now)
            case .refused(let refusal):
                return refuse(.budgetExceeded(refusal, needed: plan.worstCase), detail: refusal.scope, release: hold)
            case .failed(let failure):
                return refuse(.ledgerUnavailable, detail: "\(failure)", release: hold)
            }
        case (.forwarding(let selection, let plan, let hold, let reservation), .answered(let answer)):
            return answered(answer, selection: selection, plan: plan, hold: hold, reservation: reservation, now: now)
        case (.settling(let endPending), .settled):
            state = .done
            return endPending ? .writeEnd : .none
        default:
            return .none
        }
    }

    /// The caller is known: list its models, or read the body and decide access.
    private mutating func proceed(_ identity: Identity, now: ContinuousClock.Instant) -> Action {
        outcome.identity = identity.name
        outcome.identityLabels = identity.labels.values
        outcome.authentication = identity.method.rawValue
        outcome.keyID = identity.keyID
        if outcome.spans != nil && outcome.spans?.authenticated == nil { outcome.spans?.authenticated = now }
        let runtime = request.runtime
        if request.path == DataPlane.Route.models.rawValue { return listModels(identity) }
        let inspected: RequestInspector.Inspected
        switch RequestInspector.inspect(body) {
        case .failure(let error):
            return refuse(error)
        case .success(let result):
            inspected = result
        }
        guard let model = runtime.model(named: inspected.model) else {
            return refuse(
                GatewayError(
                    .notFound,
                    type: "invalid_request_error",
                    code: .modelNotFound,
                    message: "the model \(GatewayError.quoted(String(inspected.model.prefix(64)))) does not exist"
                )
            )
        }
        let decision = runtime.access.evaluate(caller: identity.subject, model: model.index)
        outcome.spans?.decided = now
        outcome.spans?.maxTokens = inspected.maxTokens ?? inspected.maxCompletionTokens
        outcome.model = model.route.name
        outcome.trace = decision.compactTrace
        outcome.access = decision
        outcome.modelLabels = model.route.labels
        outcome.bytesIn = body.readableBytes
        guard decision.verdict == .allow else {
            return refuse(.forbidden("\(identity.name) may not use the model \(model.route.name)"))
        }
        // Guardrails first: the caps, bounds and counts below are those of the body that is forwarded.
        let selection = Selection(
            identity: identity,
            model: model,
            guardrails: runtime.configuration.guardrails.filter { $0.selector.matches(identity.labels) },
            inspected: inspected
        )
        guard !selection.guardrails.isEmpty else { return admit(selection) }
        if let encoding = request.head.headers.first(name: "content-encoding"), encoding.lowercased() != "identity" {
            // A compressed body cannot be inspected, so it does not go through.
            return refuse(.compressedBody)
        }
        state = .scanning(selection)
        return .scan(body, selection.guardrails, onLoop: body.readableBytes <= Self.largestBodyScannedOnTheLoop)
    }

    private mutating func scanned(
        _ verdict: PromptGuard.Verdict?,
        clientLeft: Bool,
        selection: Selection,
        now: ContinuousClock.Instant
    ) -> Action {
        if let verdict, !verdict.findings.isEmpty { outcome.findings = verdict.findings }
        guard !clientLeft else {
            // Recorded as the forwarder records a client that left, with what the scan found.
            state = .done
            outcome.status = 499
            outcome.reason = .clientClosed
            if case .blocked = verdict { outcome.decision = .deny }
            return .record(outcome)
        }
        outcome.spans?.guarded = now
        switch verdict {
        case nil:
            return refuse(.guardrailUnavailable, detail: "scan not run")
        case .pass:
            return admit(selection)
        case .redacted(let redacted, _):
            // The patch and the bounds need the offsets of the body that is forwarded.
            guard case .success(let reinspected) = RequestInspector.inspect(redacted) else {
                return refuse(.guardrailUnavailable, detail: "redacted body unreadable")
            }
            var selection = selection
            selection.inspected = reinspected
            body = redacted
            return admit(selection)
        case .blocked(let rules, _):
            return refuse(.guardrailBlocked(rules))
        }
    }

    /// Checks the caps, then asks the quotas.
    private mutating func admit(_ selection: Selection) -> Action {
        let configuration = request.runtime.configuration
        let inspected = selection.inspected
        // Captured here, once access and the guardrails have let it through: what goes upstream, redacted
        // where a guardrail redacted it, never a refused prompt.
        if outcome.spans != nil, configuration.traces?.captureContent == true {
            outcome.spans?.content = String(
                decoding: body.readableBytesView.prefix(Self.capturedContentBytes),
                as: UTF8.self
            )
        }
        let plan = SpendPlan(
            identity: selection.identity,
            model: selection.model,
            route: route,
            inspected: inspected,
            body: body.readableBytesView,
            quotas: configuration.quotas
        )
        if let error = plan.exceededCap(inspected: inspected, bodyBytes: body.readableBytes) {
            return refuse(error)
        }
        state = .admitting(selection, plan)
        return .admitQuotas(plan)
    }

    /// The upstream's copy of the request: usage asked for in a stream, and the output bound in the
    /// field the upstream reads.
    private mutating func forward(
        _ selection: Selection,
        plan: SpendPlan,
        hold: QuotaBook.Hold,
        reservation: BudgetReservation?,
        now: ContinuousClock.Instant
    ) -> Action {
        let (route, inspected) = (plan.route, selection.inspected)
        var patch = RequestBodyPatch()
        let injectUsage = inspected.stream && !inspected.hasStreamOptions && route != .embeddings
        if injectUsage {
            // Ask for usage on the caller's behalf; the usage-only event it did not ask for is dropped.
            patch.set(.streamOptions, json: "{\"include_usage\":true}")
        }
        if route == .completions && inspected.maxCompletionTokens != nil {
            // Completions read only max_tokens: another bound beside it is one the upstream may not keep.
            patch.remove(.maxCompletionTokens)
        }
        if route != .embeddings {
            // The upstream is held to the output that was reserved for, in the field it reads, not to its
            // own default: the caller's bound in the other field may be one this upstream ignores.
            let field: RequestBodyPatch.Field =
                route == .chatCompletions && selection.model.route.maxTokensField == .maxCompletionTokens
                ? .maxCompletionTokens : .maxTokens
            let given = field == .maxTokens ? inspected.maxTokens : inspected.maxCompletionTokens
            if given == nil { patch.set(field, json: String(plan.outputPerChoice)) }
        }
        outcome.spans?.forwarded = now
        state = .forwarding(selection, plan, hold, reservation)
        return .forward(
            selection.model,
            Forwarder.Request(
                path: request.path,
                traceHeaders: request.upstreamTraceHeaders,
                body: body,
                inspected: inspected,
                patch: patch,
                accept: request.head.headers.first(name: "accept"),
                extraHeaders: hold.headers,
                metering: UpstreamExchange.Metering(
                    stream: inspected.stream,
                    dropUsageOnlyEvents: injectUsage,
                    guardrails: selection.guardrails,
                    outputBound: route == .embeddings ? nil : plan.outputBound,
                    notesAnswerFields: outcome.spans != nil
                )
            )
        )
    }

    /// What the answer used, charged at no more than was reserved; the caller's last bytes wait for the
    /// settlement when there is one to wait for.
    private mutating func answered(
        _ answer: Forwarder.Outcome,
        selection: Selection,
        plan: SpendPlan,
        hold: QuotaBook.Hold,
        reservation: BudgetReservation?,
        now: ContinuousClock.Instant
    ) -> Action {
        var usage = answer.usage ?? TokenUsage(input: 0, output: 0, estimated: false)
        // Without reported usage the prompt is counted here, where the request is.
        if usage.estimated { usage.input = plan.promptEstimate }
        var cost = plan.price.cost(of: usage)
        // Never more than was reserved: the budget cannot be overspent by a wrong report.
        if let reservation { cost = min(cost, reservation.amount) }
        outcome.spans?.responseModel = answer.responseModel
        outcome.spans?.finishReasons = answer.finishReasons
        outcome.upstream = answer.upstream
        outcome.status = answer.status
        // Never silent: an upstream that produced more than it was told is recorded as such.
        outcome.reason = answer.failure ?? (answer.overran ? .outputOverrun : nil)
        if answer.usage != nil {
            outcome.tokensIn = usage.input
            outcome.tokensOut = usage.output
            outcome.tokensEstimated = usage.estimated
        }
        outcome.cost = cost
        if !answer.findings.isEmpty { outcome.findings = (outcome.findings ?? []) + answer.findings }
        outcome.latencyMilliseconds = (now - request.started) / .milliseconds(1)
        outcome.timeToFirstTokenMilliseconds = answer.firstPiece.map { ($0 - request.started) / .milliseconds(1) }
        outcome.bytesOut = answer.bytes
        outcome.stream = selection.inspected.stream
        outcome.attempts = answer.attempts
        outcome.upstreamStatus = answer.upstreamStatus
        outcome.upstreamError = answer.upstreamError
        outcome.overranBound = answer.overran ? plan.outputBound : nil
        let audit = request.runtime.configuration.auditEnabled ? outcome.audit : nil
        state = .settling(endPending: answer.endPending)
        return .settle(
            Settlement(
                hold: hold,
                usage: usage,
                ledger: audit == nil && reservation == nil
                    ? nil : Settlement.Ledger(reservation: reservation, cost: cost, audit: audit),
                outcome: outcome
            )
        )
    }

    /// The models the caller may use, in OpenAI's list shape.
    private mutating func listModels(_ identity: Identity) -> Action {
        var items: [String] = []
        let runtime = request.runtime
        let evaluations = runtime.access.evaluations(caller: identity.subject)
        for model in runtime.models where evaluations[model.index].verdict == .allow {
            for name in [model.route.name] + model.route.aliases {
                items.append(
                    "{\"id\":\(GatewayError.quoted(name)),\"object\":\"model\",\"created\":0,\"owned_by\":\"gatehouse\"}"
                )
            }
        }
        state = .done
        outcome.status = 200
        outcome.detail = "\(items.count) models"
        return .answer("{\"object\":\"list\",\"data\":[\(items.joined(separator: ","))]}", outcome)
    }

    /// Ends the request with `error`, recorded as denied; `detail` says which limit, budget or failure.
    private mutating func refuse(
        _ error: GatewayError,
        detail: String? = nil,
        release: QuotaBook.Hold? = nil
    ) -> Action {
        state = .done
        outcome.decision = .deny
        outcome.status = Int(error.status.code)
        outcome.reason = outcome.reason ?? error.code
        outcome.detail = detail
        return .refuse(error, outcome, release: release)
    }

    /// The record of a request as far as its head: the caller is added once known.
    private static func outcome(of request: AdmittedRequest) -> RequestOutcome {
        var entry = AuditEntry(
            time: request.arrived,
            requestID: request.requestID,
            route: request.path,
            decision: .allow,
            status: 0
        )
        entry.client = request.client
        var outcome = RequestOutcome(entry)
        outcome.started = request.started
        if let spans = request.spans, spans.context.sampled { outcome.spans = spans }
        return outcome
    }
}
