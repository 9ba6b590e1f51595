import Foundation
import GatehouseCore
import GatehousePolicy
import GatehouseStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The data plane: the OpenAI routes, and nothing else. Authenticates at the head (before the body is
/// read), decides model access with the policy engine, and forwards to the model's upstreams.
struct DataPlane: Responder {
    enum Route: String, Sendable, CaseIterable {
        case chatCompletions = "/v1/chat/completions"
        case completions = "/v1/completions"
        case embeddings = "/v1/embeddings"
        case models = "/v1/models"

        var method: HTTPMethod { self == .models ? .GET : .POST }
    }

    let state: GatewayState
    let authenticator: Authenticator
    let quotaBook: QuotaBook
    let ledger: SpendLedger
    let telemetry: GatewayTelemetry
    let executors: EventLoopTaskExecutor.Table
    let logger: Logger

    var limits: RequestLimits { state.runtime.configuration.limits }

    func admit(
        head: HTTPRequestHead,
        requestID: String,
        connection: inout ConnectionFacts
    ) -> Result<AdmittedRequest, GatewayError> {
        let client = connection.address
        // Routing uses the raw path only: never a URL rebuilt from Host.
        let uri = head.uri
        let path = uri[..<(uri.utf8.firstIndex(of: UInt8(ascii: "?")) ?? uri.endIndex)]
        // Compared as it is: no string made per request.
        guard let route = Route.allCases.first(where: { $0.rawValue[...] == path }) else {
            recordRefusal(
                path: String(path.prefix(256)),
                requestID: requestID,
                client: client,
                error: .notFound
            )
            return .failure(.notFound)
        }
        guard head.method == route.method else {
            let error = GatewayError.methodNotAllowed(route.method.rawValue)
            recordRefusal(
                path: route.rawValue,
                requestID: requestID,
                client: client,
                error: error
            )
            return .failure(error)
        }
        let runtime = state.runtime
        let result = authenticator.authenticate(
            headers: head.headers,
            connection: &connection,
            runtime: runtime,
            kind: .api,
            now: Date()
        )
        if case .rejected = result {
            recordRefusal(
                path: route.rawValue,
                requestID: requestID,
                client: client,
                error: .unauthenticated,
                reason: .notAuthenticated
            )
            return .failure(.unauthenticated)
        }
        let started = ContinuousClock.now
        var spans = runtime.configuration.traces.map { settings in
            // Two traceparent headers make the caller's context invalid (W3C Trace Context): a new trace.
            let parents = head.headers[TraceContext.headerName]
            return RequestSpans(
                traceparent: parents.count == 1 ? parents[0] : nil,
                ratio: settings.sampling,
                started: started
            )
        }
        if case .identified = result { spans?.authenticated = .now }
        return .success(
            AdmittedRequest(
                head: head,
                path: route.rawValue,
                requestID: requestID,
                authentication: result,
                runtime: runtime,
                started: started,
                client: client,
                spans: spans
            )
        )
    }

    /// Called on the connection's event loop. A caller known from the head (key, certificate) is
    /// answered without a Swift task: the whole request runs as futures on that loop. A bearer token is
    /// verified first in a task that runs on the same loop (jwt-kit is asynchronous).
    func respond(
        to request: AdmittedRequest,
        body: ByteBuffer,
        writer: ResponseWriter,
        cancellation: RequestCancellation
    ) {
        switch request.authentication {
        case .identified(let identity):
            proceed(request, identity: identity, body: body, writer: writer, cancellation: cancellation)
        case .token(let token, let header, let verifier):
            let eventLoop = writer.channel.eventLoop
            let executor = executors.executor(for: eventLoop)
            cancellation.hold(
                Task(executorPreference: executor) {
                    guard let identity = await verifier.identify(token: token, header: header, now: Date()) else {
                        var entry = auditEntry(request, identity: nil)
                        entry.reason = .tokenNotValid
                        refuse(entry, with: .unauthenticated, writer: writer)
                        return
                    }
                    guard !Task.isCancelled else { return }
                    if eventLoop.inEventLoop {
                        proceed(request, identity: identity, body: body, writer: writer, cancellation: cancellation)
                    } else {
                        eventLoop.execute {
                            proceed(request, identity: identity, body: body, writer: writer, cancellation: cancellation)
                        }
                    }
                }
            )
        case .rejected:
            refuse(auditEntry(request, identity: nil), with: .unauthenticated, writer: writer)
        }
    }

    private func proceed(
        _ request: AdmittedRequest,
        identity: Identity,
        body: ByteBuffer,
        writer: ResponseWriter,
        cancellation: RequestCancellation
    ) {
        if request.path == Route.models.rawValue {
            listModels(request, identity: identity, writer: writer)
            return
        }
        let inspected: RequestInspector.Inspected
        switch RequestInspector.inspect(body) {
        case .failure(let error):
            refuse(auditEntry(request, identity: identity), with: error, writer: writer)
            return
        case .success(let result):
            inspected = result
        }
        guard let model = request.runtime.model(named: inspected.model) else {
            refuse(
                auditEntry(request, identity: identity),
                with: GatewayError(
                    .notFound,
                    type: "invalid_request_error",
                    code: .modelNotFound,
                    message: "the model \(GatewayError.quoted(String(inspected.model.prefix(64)))) does not exist"
                ),
                writer: writer
            )
            return
        }
        let decision = request.runtime.access.evaluate(caller: identity.subject, model: model.index)
        var entry = auditEntry(request, identity: identity)
        entry.spans?.decided = .now
        entry.spans?.maxTokens = inspected.maxTokens ?? inspected.maxCompletionTokens
        entry.model = model.route.name
        entry.trace = decision.compactTrace
        entry.access = decision
        entry.modelLabels = model.route.labels
        entry.bytesIn = body.readableBytes
        guard decision.verdict == .allow else {
            refuse(
                entry,
                with: .forbidden("\(identity.name) may not use the model \(model.route.name)"),
                writer: writer
            )
            return
        }
        // Guardrails first: the caps, bounds and counts below are those of the body that is forwarded.
        let guardrails = request.runtime.configuration.guardrails.filter { $0.selector.matches(identity.labels) }
        let admission = Admission(
            request: request,
            identity: identity,
            model: model,
            guardrails: guardrails,
            writer: writer,
            cancellation: cancellation
        )
        guard !guardrails.isEmpty else {
            admit(admission, inspected: inspected, entry: entry, body: body)
            return
        }
        if let encoding = request.head.headers.first(name: "content-encoding"), encoding.lowercased() != "identity" {
            // A compressed body cannot be inspected, so it does not go through.
            refuse(entry, with: .compressedBody, writer: writer)
            return
        }
        let guarded = { @Sendable [entry] (verdict: PromptGuard.Verdict) in
            var entry = entry
            entry.spans?.guarded = .now
            entry.findings = verdict.findings.isEmpty ? nil : verdict.findings
            switch verdict {
            case .pass:
                admit(admission, inspected: inspected, entry: entry, body: body)
            case .redacted(let redacted, _):
                // The patch and the bounds need the offsets of the body that is forwarded.
                guard case .success(let reinspected) = RequestInspector.inspect(redacted) else {
                    refuse(entry, with: .guardrailUnavailable, detail: "redacted body unreadable", writer: writer)
                    return
                }
                admit(admission, inspected: reinspected, entry: entry, body: redacted)
            case .blocked(let rules, _):
                refuse(entry, with: .guardrailBlocked(rules), writer: writer)
            }
        }
        guard body.readableBytes > Self.largestBodyScannedOnTheLoop else {
            guarded(PromptGuard.check(body, policies: guardrails))
            return
        }
        // A large body is scanned off the event loop, so the other connections it serves are not kept waiting.
        let eventLoop = writer.channel.eventLoop
        NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
            PromptGuard.check(body, policies: guardrails)
        }.whenComplete { [entry] result in
            guard !cancellation.isCancelled else {
                // Recorded as the forwarder records a client that left, with what the scan found.
                var entry = entry
                entry.status = 499
                entry.reason = .clientClosed
                if case .success(let verdict) = result, !verdict.findings.isEmpty {
                    entry.findings = verdict.findings
                    if case .blocked = verdict { entry.decision = .deny }
                }
                record(entry)
                return
            }
            switch result {
            case .success(let verdict): guarded(verdict)
            case .failure:
                refuse(entry, with: .guardrailUnavailable, detail: "scan not run", writer: writer)
            }
        }
    }

    /// What admitting a request needs besides its body and what was read from it: fixed once the caller
    /// and the model are known.
    private struct Admission: Sendable {
        let request: AdmittedRequest
        let identity: Identity
        let model: ModelRuntime
        let guardrails: [GuardrailPolicy]
        let writer: ResponseWriter
        let cancellation: RequestCancellation
    }

    /// Bodies up to this size are scanned by the guardrails on the connection's event loop (well under a
    /// millisecond); larger ones on the thread pool.
    static let largestBodyScannedOnTheLoop = 64 << 10

    /// The most of a request body a span carries with `captureContent: true`.
    static let capturedContentBytes = 16 << 10

    /// Checks caps and limits, reserves against budgets, and forwards; on the connection's event loop.
    private func admit(
        _ admission: Admission,
        inspected: RequestInspector.Inspected,
        entry: RequestOutcome,
        body: ByteBuffer
    ) {
        let (request, identity, model) = (admission.request, admission.identity, admission.model)
        let writer = admission.writer
        var entry = entry
        // Captured here, once access and the guardrails have let it through: what goes upstream, redacted
        // where a guardrail redacted it, never a refused prompt.
        if entry.spans != nil, request.runtime.configuration.traces?.captureContent == true {
            entry.spans?.content = String(
                decoding: body.readableBytesView.prefix(Self.capturedContentBytes),
                as: UTF8.self
            )
        }
        let plan = SpendPlan(
            identity: identity,
            model: model,
            route: Route(rawValue: request.path) ?? .chatCompletions,
            inspected: inspected,
            body: body.readableBytesView,
            quotas: request.runtime.configuration.quotas
        )
        if let error = plan.exceededCap(inspected: inspected, bodyBytes: body.readableBytes) {
            refuse(entry, with: error, writer: writer)
            return
        }
        quotaBook.admit(plan.demands, tokens: plan.admissionTokens(), on: writer.channel.eventLoop).whenSuccess {
            [entry] quotas in
            switch quotas {
            case .refused(let limit, let retryAfter, let headers):
                refuse(
                    entry,
                    with: .rateLimited(limit, retryAfter: retryAfter, headers: headers),
                    detail: limit,
                    writer: writer
                )
            case .unavailable:
                refuse(entry, with: .quotasUnavailable, detail: "quotas: the store cannot be reached", writer: writer)
            case .admitted(let hold):
                guard ledger.canRecord else {
                    quotaBook.finish(hold, usage: TokenUsage(input: 0, output: 0, estimated: false))
                    refuse(entry, with: .ledgerUnavailable, detail: "the store cannot be reached", writer: writer)
                    return
                }
                reserve(admission, inspected: inspected, plan: plan, hold: hold, entry: entry, body: body)
            }
        }
    }

    /// Reserves against the budgets a request admitted by its quotas, and forwards it when they can spare
    /// it.
    private func reserve(
        _ admission: Admission,
        inspected: RequestInspector.Inspected,
        plan: SpendPlan,
        hold: QuotaBook.Hold,
        entry: RequestOutcome,
        body: ByteBuffer
    ) {
        let (request, identity, model) = (admission.request, admission.identity, admission.model)
        let (guardrails, writer, cancellation) = (admission.guardrails, admission.writer, admission.cancellation)
        let exchange = SpendExchange(
            request: request,
            identity: identity,
            model: model,
            inspected: inspected,
            plan: plan,
            hold: hold,
            entry: entry,
            body: body,
            guardrails: guardrails,
            writer: writer,
            cancellation: cancellation
        )
        guard !plan.budgets.isEmpty else {
            forward(exchange, reservation: nil)
            return
        }
        let reservation = ledger.reservation(of: plan.worstCase, against: plan.budgets)
        ledger.reserve(reservation, on: writer.channel.eventLoop).whenSuccess { [entry] outcome in
            let (error, detail): (GatewayError, String)
            switch outcome {
            case .done, .held:
                forward(exchange, reservation: reservation)
                return
            case .refused(let refusal):
                (error, detail) = (.budgetExceeded(refusal, needed: plan.worstCase), refusal.scope)
            case .failed(let failure):
                (error, detail) = (.ledgerUnavailable, "\(failure)")
            }
            quotaBook.finish(hold, usage: TokenUsage(input: 0, output: 0, estimated: false))
            refuse(entry, with: error, detail: detail, writer: writer)
        }
    }

    /// Forwards an admitted request, then settles what it used and records it; a complete answer's
    /// last bytes go out only once its record is durable.
    private func forward(_ exchange: SpendExchange, reservation: BudgetReservation?) {
        let inspected = exchange.inspected
        let writer = exchange.writer
        let plan = exchange.plan
        let route = plan.route
        let model = exchange.model
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
                route == .chatCompletions && model.route.maxTokensField == .maxCompletionTokens
                ? .maxCompletionTokens : .maxTokens
            let given = field == .maxTokens ? inspected.maxTokens : inspected.maxCompletionTokens
            if given == nil { patch.set(field, json: String(plan.outputPerChoice)) }
        }
        let forwarded = exchange.entry.spans == nil ? nil : ContinuousClock.now
        Forwarder.forward(
            model: model,
            path: exchange.request.path,
            traceHeaders: exchange.request.upstreamTraceHeaders,
            body: exchange.body,
            inspected: inspected,
            patch: patch,
            accept: exchange.request.head.headers.first(name: "accept"),
            extraHeaders: exchange.hold.headers,
            metering: UpstreamExchange.Metering(
                stream: inspected.stream,
                dropUsageOnlyEvents: injectUsage,
                guardrails: exchange.guardrails,
                outputBound: route == .embeddings ? nil : plan.outputBound,
                notesAnswerFields: exchange.entry.spans != nil
            ),
            writer: writer,
            cancellation: exchange.cancellation
        ) { outcome in
            var usage = outcome.usage ?? TokenUsage(input: 0, output: 0, estimated: false)
            // Without reported usage the prompt is counted here, where the request is.
            if usage.estimated { usage.input = exchange.plan.promptEstimate }
            quotaBook.finish(exchange.hold, usage: usage)
            var cost = exchange.plan.price.cost(of: usage)
            if let reservation {
                // Never more than was reserved: the budget cannot be overspent by a wrong report.
                cost = min(cost, reservation.amount)
            }
            var entry = exchange.entry
            entry.spans?.forwarded = forwarded
            entry.spans?.responseModel = outcome.responseModel
            entry.spans?.finishReasons = outcome.finishReasons
            entry.upstream = outcome.upstream
            entry.status = outcome.status
            // Never silent: an upstream that produced more than it was told is recorded as such.
            entry.reason = outcome.failure ?? (outcome.overran ? .outputOverrun : nil)
            if outcome.usage != nil {
                entry.tokensIn = usage.input
                entry.tokensOut = usage.output
                entry.tokensEstimated = usage.estimated
            }
            entry.cost = cost
            if !outcome.findings.isEmpty { entry.findings = (entry.findings ?? []) + outcome.findings }
            entry.latencyMilliseconds = (ContinuousClock.now - exchange.request.started) / .milliseconds(1)
            entry.timeToFirstTokenMilliseconds = outcome.firstPiece.map {
                ($0 - exchange.request.started) / .milliseconds(1)
            }
            entry.bytesOut = outcome.bytes
            entry.stream = inspected.stream
            entry.attempts = outcome.attempts
            entry.upstreamStatus = outcome.upstreamStatus
            entry.upstreamError = outcome.upstreamError
            entry.overranBound = outcome.overran ? plan.outputBound : nil
            // The caller's answer first: what follows is bookkeeping it need not wait for.
            let audit = exchange.request.runtime.configuration.auditEnabled ? entry.audit : nil
            if audit == nil && reservation == nil {
                if outcome.endPending { writer.writeEnd() }
            } else {
                ledger.finish(reservation, cost: cost, record: audit, on: writer.channel.eventLoop).whenComplete { _ in
                    if outcome.endPending { writer.writeEnd() }
                }
            }
            report(entry)
        }
    }

    // MARK: Audit

    private func auditEntry(_ request: AdmittedRequest, identity: Identity?) -> RequestOutcome {
        var entry = AuditEntry(
            time: request.arrived,
            requestID: request.requestID,
            route: request.path,
            decision: .allow,
            status: 0
        )
        if let identity {
            entry.identity = identity.name
            entry.identityLabels = identity.labels.values
            entry.authentication = identity.method.rawValue
            entry.keyID = identity.keyID
        }
        entry.client = request.client
        var record = RequestOutcome(entry)
        record.started = request.started
        if let spans = request.spans, spans.context.sampled {
            record.spans = spans
            if identity != nil && spans.authenticated == nil { record.spans?.authenticated = .now }
        }
        return record
    }

    /// Answers with `error` and records the request as denied; `detail` says which limit, budget or
    /// failure.
    private func refuse(
        _ entry: RequestOutcome,
        with error: GatewayError,
        detail: String? = nil,
        writer: ResponseWriter
    ) {
        var entry = entry
        entry.decision = .deny
        entry.status = Int(error.status.code)
        entry.reason = entry.reason ?? error.code
        entry.detail = detail
        record(entry)
        writer.writeError(error)
    }

    /// The models the caller may use, in OpenAI's list shape.
    private func listModels(_ request: AdmittedRequest, identity: Identity, writer: ResponseWriter) {
        var items: [String] = []
        let evaluations = request.runtime.access.evaluations(caller: identity.subject)
        for model in request.runtime.models where evaluations[model.index].verdict == .allow {
            for name in [model.route.name] + model.route.aliases {
                items.append(
                    "{\"id\":\(GatewayError.quoted(name)),\"object\":\"model\",\"created\":0,\"owned_by\":\"gatehouse\"}"
                )
            }
        }
        var entry = auditEntry(request, identity: identity)
        entry.status = 200
        entry.detail = "\(items.count) models"
        record(entry)
        writer.writeJSON(status: .ok, "{\"object\":\"list\",\"data\":[\(items.joined(separator: ","))]}")
    }

    /// Adds `entry` to the audit trail (unless configuration turned the trail off), then `report`s it.
    private func record(_ entry: RequestOutcome) {
        if state.runtime.configuration.auditEnabled { ledger.record(entry.audit) }
        report(entry)
    }

    /// The flows, the metrics, the spans and the log line, all from the one outcome.
    private func report(_ entry: RequestOutcome) {
        telemetry.observe(entry)
        logger.info(entry.logLine.message)
    }

    /// Records a request refused at its head, before a caller was known.
    private func recordRefusal(
        path: String,
        requestID: String,
        client: String?,
        error: GatewayError,
        reason: RequestReason? = nil
    ) {
        var entry = AuditEntry(
            time: Date(),
            requestID: requestID,
            route: path,
            decision: .deny,
            status: Int(error.status.code)
        )
        entry.reason = reason ?? error.code
        entry.client = client
        record(RequestOutcome(entry))
    }
}
