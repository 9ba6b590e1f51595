import Foundation
import GatehouseCore
import GatehouseStore
import Logging
import NIOCore
import NIOHTTP1

/// The data plane: the OpenAI routes, and nothing else. Routes and authenticates at the head (before the
/// body is read); each request it admits then runs as a `RequestMachine`, carried out by `RequestRun`
/// with the dependencies kept here.
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

    /// Called on the connection's event loop: the request's machine takes it from here (see `RequestRun`).
    func respond(
        to request: AdmittedRequest,
        body: ByteBuffer,
        writer: ResponseWriter,
        cancellation: RequestCancellation
    ) {
        RequestRun(plane: self, request: request, writer: writer, cancellation: cancellation).handle(.received(body))
    }

    /// Adds `entry` to the audit trail (unless configuration turned the trail off), then `report`s it.
    func record(_ entry: RequestOutcome) {
        if state.runtime.configuration.auditEnabled { ledger.record(entry.audit) }
        report(entry)
    }

    /// The flows, the metrics, the spans and the log line, all from the one outcome.
    func report(_ entry: RequestOutcome) {
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
