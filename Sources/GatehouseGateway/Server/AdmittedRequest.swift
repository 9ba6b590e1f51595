import Foundation
import NIOHTTP1

/// A request whose head a responder accepted: what it needs again once the body is in. A class: it
/// travels through the connection's state and the request's callbacks, and copying its fields at every
/// step showed in profiles.
final class AdmittedRequest: Sendable {
    let head: HTTPRequestHead
    /// The raw path, without the query.
    let path: String
    let requestID: String
    let authentication: Authenticator.Result
    /// The configuration in force when the head arrived, used for the whole request.
    let runtime: GatewayRuntime
    let started: ContinuousClock.Instant
    /// When the head arrived, by the wall clock (the audit record's time).
    let arrived = Date()
    /// The client's address (`127.0.0.1:50122`), written once per connection.
    let client: String?
    /// Its part in a trace, when spans are exported (`telemetry.otlp`), sampled or not.
    let spans: RequestSpans?

    init(
        head: HTTPRequestHead,
        path: String,
        requestID: String,
        authentication: Authenticator.Result,
        runtime: GatewayRuntime,
        started: ContinuousClock.Instant,
        client: String? = nil,
        spans: RequestSpans? = nil
    ) {
        self.head = head
        self.path = path
        self.requestID = requestID
        self.authentication = authentication
        self.runtime = runtime
        self.started = started
        self.client = client
        self.spans = spans
    }

    /// The W3C trace context the model server gets: a `traceparent` naming the gateway's upstream span
    /// when the gateway takes part in traces, with the caller's `tracestate` when the caller's trace goes
    /// on (a new trace has none); else the caller's own headers, passed on as they came.
    var upstreamTraceHeaders: [(String, String)] {
        let parent: String
        if let spans {
            parent = spans.upstreamHeader
            guard spans.parentSpanID != nil else { return [(TraceContext.headerName, parent)] }
        } else {
            // Without a traceparent no tracestate is looked for: one header scan per untraced request.
            guard let callers = head.headers.first(name: TraceContext.headerName) else { return [] }
            parent = callers
        }
        guard let state = head.headers.first(name: TraceContext.stateHeaderName) else {
            return [(TraceContext.headerName, parent)]
        }
        return [(TraceContext.headerName, parent), (TraceContext.stateHeaderName, state)]
    }

    /// The caller, when authentication needed no further (asynchronous) step.
    var identity: Identity? {
        if case .identified(let identity) = authentication { return identity }
        return nil
    }
}
