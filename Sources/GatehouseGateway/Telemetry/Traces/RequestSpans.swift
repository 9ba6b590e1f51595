import Foundation
import GatehouseCore
import GatehouseStore

/// One request's part in a trace: the context it was given, the span ids it hands out, when each step
/// ended, and what only the trace records. The spans are made from it and the request's record once
/// the request is done (OpenTelemetry GenAI semantic conventions, `gen_ai.*`).
struct RequestSpans: Sendable {
    /// The gateway's server span: the trace, and its own span id.
    let context: TraceContext
    /// The caller's span, when its `traceparent` named one.
    let parentSpanID: UInt64?
    /// The span of the call to the model server, named in the `traceparent` sent there.
    let upstreamSpanID: UInt64
    /// When the request's head arrived.
    let started: ContinuousClock.Instant
    var authenticated: ContinuousClock.Instant?
    var decided: ContinuousClock.Instant?
    var guarded: ContinuousClock.Instant?
    var forwarded: ContinuousClock.Instant?
    var maxTokens: Int?
    var responseModel: String?
    var finishReasons: [String] = []
    /// The request body as received, only with `captureContent: true`.
    var content: String?

    /// The caller's context continued (its sampling decision kept), or a new trace sampled at `ratio`.
    init(traceparent: String?, ratio: Double, started: ContinuousClock.Instant) {
        self.started = started
        var random = SystemRandomNumberGenerator()
        if let traceparent, let caller = TraceContext(header: traceparent) {
            context = caller.child(TraceContext.spanID(using: &random))
            parentSpanID = caller.spanID
        } else {
            context = TraceContext.starting(ratio: ratio, using: &random)
            parentSpanID = nil
        }
        upstreamSpanID = TraceContext.spanID(using: &random)
    }

    /// The `traceparent` the model server gets: this trace, naming the upstream call's span.
    var upstreamHeader: String { context.child(upstreamSpanID).header }

    /// The request's spans: the server span, and a child for each step it reached (authentication, the
    /// access policy, guardrails, the model server). No key, token, prompt or answer is in any of them,
    /// unless `content` was captured.
    func spans(of record: RequestOutcome) -> [OTLPSpan] {
        let audit = record.audit
        let origin = UInt64(max(audit.time.timeIntervalSince1970, 0) * 1e9)
        func time(_ instant: ContinuousClock.Instant?) -> UInt64? {
            guard let instant else { return nil }
            let elapsed = instant - started
            return origin + UInt64(max(elapsed / .nanoseconds(1), 0))
        }
        let end = origin + UInt64(max((audit.latencyMilliseconds ?? 0) * 1e6, 0))
        let finished = max(end, time(.now) ?? end)
        let operation = GatewayMetrics.operation(of: audit.route)
        let model = audit.model
        let method = audit.route == "/v1/models" ? "GET" : "POST"
        // The GenAI name (`chat gpt-4o`) for model calls, the HTTP one (`GET /v1/models`) for the rest.
        let name = operation.map { [$0, model].compactMap { $0 }.joined(separator: " ") } ?? "\(method) \(audit.route)"
        var server = OTLPSpan(
            context: context,
            parentSpanID: parentSpanID,
            name: name,
            kind: .server,
            startNanoseconds: origin,
            endNanoseconds: audit.latencyMilliseconds == nil ? finished : end
        )
        server.set("gen_ai.operation.name", operation.map(OTLPSpan.Value.string))
        server.set("gen_ai.provider.name", operation == nil ? nil : .string("openai"))
        server.set("gen_ai.request.model", model.map(OTLPSpan.Value.string))
        server.set("gen_ai.request.max_tokens", maxTokens.map { .int(Int64($0)) })
        server.set("gen_ai.response.model", responseModel.map(OTLPSpan.Value.string))
        server.set("gen_ai.response.finish_reasons", finishReasons.isEmpty ? nil : .strings(finishReasons))
        if audit.tokensEstimated != true {
            server.set("gen_ai.usage.input_tokens", audit.tokensIn.map { .int(Int64($0)) })
            server.set("gen_ai.usage.output_tokens", audit.tokensOut.map { .int(Int64($0)) })
        }
        server.set("gen_ai.input.messages", content.map(OTLPSpan.Value.string))
        server.set("http.request.method", .string(method))
        server.set("http.route", .string(audit.route))
        server.set("http.response.status_code", .int(Int64(audit.status)))
        server.set("gatehouse.request.id", .string(audit.requestID))
        server.set("gatehouse.identity", audit.identity.map(OTLPSpan.Value.string))
        server.set("gatehouse.decision", .string(audit.decision.rawValue))
        server.set("gatehouse.reason", audit.reason.map { .string($0.code) })
        server.set("gatehouse.cost", audit.cost.map { .string($0.exactDollars) })
        if let reason = audit.reason, audit.decision == .deny || audit.status >= 500 {
            server.set("error.type", .string(reason.code))
            server.error = reason.code
        }
        var spans = [server]
        var random = SystemRandomNumberGenerator()
        func step(_ name: String, from start: UInt64?, to stop: UInt64?, _ fill: (inout OTLPSpan) -> Void) {
            guard let start, let stop else { return }
            var span = OTLPSpan(
                context: context.child(TraceContext.spanID(using: &random)),
                parentSpanID: context.spanID,
                name: name,
                kind: .internal,
                startNanoseconds: start,
                endNanoseconds: stop
            )
            fill(&span)
            spans.append(span)
        }
        let authenticated = time(authenticated)
        step("gatehouse.authenticate", from: origin, to: authenticated) { span in
            span.set("gatehouse.auth", audit.authentication.map(OTLPSpan.Value.string))
        }
        let decided = time(decided)
        step("gatehouse.policy", from: authenticated, to: decided) { span in
            span.set("gatehouse.decision", record.access.map { .string($0.verdict.rawValue) })
            span.set("gatehouse.policy.outcome", record.access.map { .string("\($0.outcome)") })
            span.set("gatehouse.policy.trace", audit.trace.map(OTLPSpan.Value.string))
        }
        let guarded = time(guarded)
        step("gatehouse.guardrails", from: decided, to: guarded) { span in
            span.set("gatehouse.guardrail.findings", audit.findings.map { .strings($0.map(\.description)) })
        }
        if let forwarded = time(forwarded), let upstream = audit.upstream {
            var call = OTLPSpan(
                context: context.child(upstreamSpanID),
                parentSpanID: context.spanID,
                name: [operation, responseModel ?? model].compactMap { $0 }.joined(separator: " "),
                kind: .client,
                startNanoseconds: forwarded,
                endNanoseconds: server.endNanoseconds
            )
            call.set("gen_ai.operation.name", operation.map(OTLPSpan.Value.string))
            call.set("gen_ai.provider.name", .string("openai"))
            call.set("gen_ai.request.model", model.map(OTLPSpan.Value.string))
            call.set("gen_ai.response.model", responseModel.map(OTLPSpan.Value.string))
            if let url = URLComponents(string: upstream), let host = url.host {
                call.set("server.address", .string(host))
                call.set("server.port", .int(Int64(url.port ?? (url.scheme == "https" ? 443 : 80))))
            }
            call.set("http.response.status_code", .int(Int64(audit.status)))
            if let reason = audit.reason, audit.status >= 500 || reason == .clientClosed {
                call.set("error.type", .string(reason.code))
                call.error = reason.code
            }
            spans.append(call)
        }
        return spans
    }
}
