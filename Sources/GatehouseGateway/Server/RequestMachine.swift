import GatehouseCore
import GatehousePolicy
import GatehouseStore
import NIOCore
import NIOHTTP1
import NIOSSL

/// One request's course once its head was admitted, from its body to its settlement, without I/O.
/// Events go in (the body, the caller a token names, the guardrails' verdict, the quotas' answer, the
/// budget reservation, each upstream's answer or failure, the client leaving, the settlement) and the
/// one action each calls for comes out (verify a token, scan, admit against quotas, reserve, send to an
/// upstream, settle, write the end, refuse, answer, record). `RequestRun` carries the actions out with
/// the event loop, the store and the upstreams; tests drive the machine alone, with a clock of their own.
///
/// The request's `RequestOutcome` is built up in place as the request goes; every action that ends the
/// request carries it, so it is recorded once, whichever way the request ends. An event the current
/// state does not expect answers `.none`: `RequestRun` feeds each event only in answer to the action that
/// asked for it, so no hold or reservation arrives where it would be dropped.
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
        /// The upstream last asked for answered (relayed or declined) or failed; `clientLeft` when the client
        /// went away meanwhile.
        case upstreamAnswered(Result<UpstreamConnections.Answer, any Error>, clientLeft: Bool)
        /// The client went away before the upstream asked for was sent the request.
        case clientLeft
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
        /// Send the request to this upstream of the model (unless the client left: then `.clientLeft`);
        /// `mark` says how the previous attempt left its upstream.
        case attempt(Upstream, of: ModelRuntime, Forwarder.Request, mark: HealthMark?)
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

    /// An upstream found healthy (it answered) or not (it failed while the client waited).
    struct HealthMark {
        let upstream: Upstream
        let healthy: Bool
    }

    struct Settlement {
        /// Written to the caller first, when no upstream's answer was relayed.
        let error: GatewayError?
        let mark: HealthMark?
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

    /// The caller and the model, once access allowed them, and what was read from the body. The states'
    /// payloads are classes: a state is matched at every event, and copying their fields into each match
    /// showed in profiles.
    private final class Selection {
        let identity: Identity
        let model: ModelRuntime
        /// The guardrail policies that apply to the caller.
        let guardrails: [GuardrailPolicy]
        /// Of the body that is forwarded: read again when a guardrail redacted it.
        let inspected: RequestInspector.Inspected

        init(
            identity: Identity,
            model: ModelRuntime,
            guardrails: [GuardrailPolicy],
            inspected: RequestInspector.Inspected
        ) {
            self.identity = identity
            self.model = model
            self.guardrails = guardrails
            self.inspected = inspected
        }

        func reading(_ inspected: RequestInspector.Inspected) -> Selection {
            Selection(identity: identity, model: model, guardrails: guardrails, inspected: inspected)
        }
    }

    /// A selection the caps let through, with what it may spend.
    private final class Admission {
        let selection: Selection
        let plan: SpendPlan

        init(selection: Selection, plan: SpendPlan) {
            self.selection = selection
            self.plan = plan
        }
    }

    private enum State {
        case awaitingBody
        case identifying
        case scanning(Selection)
        case admitting(Admission)
        case reserving(Admission, QuotaBook.Hold)
        case forwarding(Forwarding)
        case settling(endPending: Bool)
        case done
    }

    /// A request on its way to the model's upstreams, tried in turn; changed in place as they answer.
    private final class Forwarding {
        let admission: Admission
        let hold: QuotaBook.Hold
        let reservation: BudgetReservation?
        let request: Forwarder.Request
        /// Healthy first, each once; the one asked last is at `answer.attempts` until it answers.
        let candidates: [Upstream]
        /// What the attempts so far came to.
        var answer = Forwarder.Outcome(status: 502, upstream: nil, attempts: 0, bytes: 0, failure: nil)

        init(
            admission: Admission,
            hold: QuotaBook.Hold,
            reservation: BudgetReservation?,
            request: Forwarder.Request,
            candidates: [Upstream]
        ) {
            self.admission = admission
            self.hold = hold
            self.reservation = reservation
            self.request = request
            self.candidates = candidates
        }

        var selection: Selection { admission.selection }
        var plan: SpendPlan { admission.plan }
    }

    /// Bodies up to this size are scanned by the guardrails on the connection's event loop (well under a
    /// millisecond); larger ones on the thread pool.
    static let largestBodyScannedOnTheLoop = 64 << 10

    /// The most of a request body a span carries with `captureContent: true`.
    static let capturedContentBytes = 16 << 10

    let request: AdmittedRequest
    /// The clock the request's timings are read from: the continuous clock in the gateway, a manual one in
    /// tests. Read for the latency, and for the spans' steps only when the request is traced.
    private let now: () -> ContinuousClock.Instant
    private var state = State.awaitingBody
    /// The body that is forwarded: redacted when a guardrail redacted it.
    private var body = ByteBuffer()
    /// What the request came to so far.
    private var outcome: RequestOutcome

    init(request: AdmittedRequest, now: @escaping () -> ContinuousClock.Instant = { .now }) {
        self.request = request
        self.now = now
        self.outcome = Self.outcome(of: request)
    }

    private var route: DataPlane.Route { DataPlane.Route(rawValue: request.path) ?? .chatCompletions }

    mutating func handle(_ event: Event) -> Action {
        // The event is matched first and the state after, rather than both as a tuple: a tuple's match
        // copies the state's payloads.
        switch event {
        case .received(let body):
            guard case .awaitingBody = state else { return .none }
            self.body = body
            switch request.authentication {
            case .identified(let identity):
                return proceed(identity)
            case .token(let token, let header, let verifier):
                state = .identifying
                return .verifyToken(token, header, verifier)
            case .rejected:
                return refuse(.unauthenticated)
            }
        case .identified(let identity):
            guard case .identifying = state else { return .none }
            guard let identity else {
                outcome.reason = .tokenNotValid
                return refuse(.unauthenticated)
            }
            return proceed(identity)
        case .scanned(let verdict, let clientLeft):
            guard case .scanning(let selection) = state else { return .none }
            return scanned(verdict, clientLeft: clientLeft, selection: selection)
        case .quotas(let quotas, let ledgerReachable):
            guard case .admitting(let admission) = state else { return .none }
            switch quotas {
            case .refused(let limit, let retryAfter, let headers):
                return refuse(.rateLimited(limit, retryAfter: retryAfter, headers: headers), detail: limit)
            case .unavailable:
                return refuse(.quotasUnavailable, detail: "quotas: the store cannot be reached")
            case .admitted(let hold):
                guard ledgerReachable else {
                    return refuse(.ledgerUnavailable, detail: "the store cannot be reached", release: hold)
                }
                let plan = admission.plan
                guard !plan.budgets.isEmpty else {
                    return forward(admission, hold: hold, reservation: nil)
                }
                state = .reserving(admission, hold)
                return .reserve(plan.worstCase, against: plan.budgets)
            }
        case .reserved(let reservation, let result):
            guard case .reserving(let admission, let hold) = state else { return .none }
            switch result {
            case .done, .held:
                return forward(admission, hold: hold, reservation: reservation)
            case .refused(let refusal):
                return refuse(
                    .budgetExceeded(refusal, needed: admission.plan.worstCase),
                    detail: refusal.scope,
                    release: hold
                )
            case .failed(let failure):
                return refuse(.ledgerUnavailable, detail: "\(failure)", release: hold)
            }
        case .upstreamAnswered(let answer, let clientLeft):
            guard case .forwarding(let forwarding) = state else { return .none }
            return upstreamAnswered(answer, clientLeft: clientLeft, forwarding: forwarding)
        case .clientLeft:
            guard case .forwarding(let forwarding) = state else { return .none }
            return left(forwarding)
        case .settled:
            guard case .settling(let endPending) = state else { return .none }
            state = .done
            return endPending ? .writeEnd : .none
        }
    }

    /// The caller is known: list its models, or read the body and decide access.
    private mutating func proceed(_ identity: Identity) -> Action {
        outcome.identity = identity.name
        outcome.identityLabels = identity.labels.values
        outcome.authentication = identity.method.rawValue
        outcome.keyID = identity.keyID
        if outcome.spans?.authenticated == nil { stamp(\.authenticated) }
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
        stamp(\.decided)
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
        selection: Selection
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
        guard let verdict else { return refuse(.guardrailUnavailable, detail: "scan not run") }
        stamp(\.guarded)
        switch verdict {
        case .pass:
            return admit(selection)
        case .redacted(let redacted, _):
            // The patch and the bounds need the offsets of the body that is forwarded.
            guard case .success(let reinspected) = RequestInspector.inspect(redacted) else {
                return refuse(.guardrailUnavailable, detail: "redacted body unreadable")
            }
            body = redacted
            return admit(selection.reading(reinspected))
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
        state = .admitting(Admission(selection: selection, plan: plan))
        return .admitQuotas(plan)
    }

    /// The upstream's copy of the request: usage asked for in a stream, and the output bound in the
    /// field the upstream reads.
    private mutating func forward(
        _ admission: Admission,
        hold: QuotaBook.Hold,
        reservation: BudgetReservation?
    ) -> Action {
        let (selection, plan) = (admission.selection, admission.plan)
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
        stamp(\.forwarded)
        let forwarding = Forwarding(
            admission: admission,
            hold: hold,
            reservation: reservation,
            request: Forwarder.Request(
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
            ),
            candidates: selection.model.candidates
        )
        return attempt(forwarding, mark: nil)
    }

    /// Asks the next candidate upstream, or ends with 502 when none is left.
    private mutating func attempt(_ forwarding: Forwarding, mark: HealthMark?) -> Action {
        let model = forwarding.selection.model
        guard forwarding.answer.attempts < forwarding.candidates.count else {
            forwarding.answer.status = 502
            return answered(
                forwarding,
                error: .upstreamUnavailable("no upstream for \(model.route.name) answered; retry later"),
                mark: mark
            )
        }
        state = .forwarding(forwarding)
        return .attempt(forwarding.candidates[forwarding.answer.attempts], of: model, forwarding.request, mark: mark)
    }

    /// A connect error, a timeout before the response head or a 5xx before the first byte moves on to the
    /// next upstream; an upstream refusing the gateway's credential ends the request (the operator's
    /// problem, not the caller's, and no other upstream would take the same credential more kindly).
    private mutating func upstreamAnswered(
        _ result: Result<UpstreamConnections.Answer, any Error>,
        clientLeft: Bool,
        forwarding: Forwarding
    ) -> Action {
        let upstream = forwarding.candidates[forwarding.answer.attempts]
        forwarding.answer.attempts += 1
        forwarding.answer.upstream = upstream.origin
        switch result {
        case .success(.declined(let status, _)) where status == .unauthorized || status == .forbidden:
            forwarding.answer.failure = .upstreamCredentialRefused
            forwarding.answer.status = 502
            return answered(
                forwarding,
                error: .upstreamUnavailable("the model server refused the gateway's credentials; tell the operator"),
                mark: nil
            )
        case .success(.declined(let status, let excerpt)):
            forwarding.answer.failure = .upstreamErrorStatus
            forwarding.answer.upstreamStatus = Int(status.code)
            forwarding.answer.upstreamError = excerpt
            return clientLeft ? left(forwarding) : attempt(forwarding, mark: nil)
        case .success(.relayed(let status, let relayed)):
            forwarding.answer.status = Int(status.code)
            forwarding.answer.bytes = relayed.bytes
            forwarding.answer.usage = relayed.usage
            forwarding.answer.firstPiece = relayed.firstPiece
            forwarding.answer.findings = relayed.findings
            forwarding.answer.endPending = relayed.complete
            forwarding.answer.overran = relayed.overran
            forwarding.answer.responseModel = relayed.responseModel
            forwarding.answer.finishReasons = relayed.finishReasons
            forwarding.answer.failure = relayed.complete ? nil : (clientLeft ? .clientClosed : .streamInterrupted)
            return answered(forwarding, error: nil, mark: HealthMark(upstream: upstream, healthy: true))
        case .failure(let error):
            // The client leaving closed the connection: that says nothing of the upstream.
            guard !clientLeft else { return left(forwarding) }
            switch error {
            case is UpstreamConnectionHandler.Timeout: forwarding.answer.failure = .upstreamTimeout
            case is UpstreamResponseParser.Malformed: forwarding.answer.failure = .upstreamUnreadable
            case let mismatch as UpstreamHandshake.IdentityMismatch:
                forwarding.answer.failure = .upstreamIdentityRefused
                forwarding.answer.upstreamError = "\(mismatch)"
            case is UpstreamHandshake.Timeout: forwarding.answer.failure = .upstreamTLSTimeout
            case is NIOSSLError, is BoringSSLError: forwarding.answer.failure = .upstreamTLSFailed
            default: forwarding.answer.failure = .upstreamConnectFailed
            }
            return attempt(forwarding, mark: HealthMark(upstream: upstream, healthy: false))
        }
    }

    /// The client went away: no other upstream is asked.
    private mutating func left(_ forwarding: Forwarding) -> Action {
        forwarding.answer.failure = .clientClosed
        forwarding.answer.status = 499
        return answered(forwarding, error: nil, mark: nil)
    }

    /// What the answer used, charged at no more than was reserved; the caller's last bytes wait for the
    /// settlement when there is one to wait for.
    private mutating func answered(
        _ forwarding: Forwarding,
        error: GatewayError?,
        mark: HealthMark?
    ) -> Action {
        let (answer, plan, reservation) = (forwarding.answer, forwarding.plan, forwarding.reservation)
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
        outcome.latencyMilliseconds = (now() - request.started) / .milliseconds(1)
        outcome.timeToFirstTokenMilliseconds = answer.firstPiece.map { ($0 - request.started) / .milliseconds(1) }
        outcome.bytesOut = answer.bytes
        outcome.stream = forwarding.selection.inspected.stream
        outcome.attempts = answer.attempts
        outcome.upstreamStatus = answer.upstreamStatus
        outcome.upstreamError = answer.upstreamError
        outcome.overranBound = answer.overran ? plan.outputBound : nil
        let audit = request.runtime.configuration.auditEnabled ? outcome.audit : nil
        state = .settling(endPending: answer.endPending)
        // Not needed again: not kept while the settlement waits for the store.
        body = ByteBuffer()
        return .settle(
            Settlement(
                error: error,
                mark: mark,
                hold: forwarding.hold,
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

    /// Notes when a traced request reached `step`; the clock is not read for an untraced one.
    private mutating func stamp(_ step: WritableKeyPath<RequestSpans, ContinuousClock.Instant?>) {
        guard outcome.spans != nil else { return }
        let instant = now()
        outcome.spans?[keyPath: step] = instant
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
