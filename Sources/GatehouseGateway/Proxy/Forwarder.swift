import Foundation
import GatehouseCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// Sends an admitted request to a model's upstreams and relays the answer piece by piece.
///
/// Upstreams are tried healthy-first, in order; a connect error, a timeout before the response head
/// or a 5xx before the first byte moves on to the next one. A 5xx is never relayed: its text may carry
/// the server's internals (stack traces, paths, versions), so it goes to the log, and the caller gets
/// the gateway's own 502 with the request id. The caller's `Authorization` never leaves the gateway;
/// the upstream's own credential is added.
enum Forwarder {
    struct Outcome: Sendable {
        var status: Int
        var upstream: String?
        var attempts: Int
        var bytes: Int
        var failure: RequestReason?
        /// Set when an answer was relayed (completely or not): what it used, when its first piece came.
        var usage: TokenUsage?
        var firstPiece: ContinuousClock.Instant?
        /// Guardrail findings in the answer.
        var findings: [GuardrailFinding] = []
        /// True when a complete answer was relayed and its end is the caller's to write.
        var endPending = false
        /// The upstream produced more output than the bound it was sent; the answer was cut there.
        var overran = false
        /// What the answer said of itself (`Metering.notesAnswerFields`).
        var responseModel: String?
        var finishReasons: [String] = []
        /// The last 5xx answer's status and the start of its body, or what an upstream's identity failed,
        /// for the log only.
        var upstreamStatus: Int?
        var upstreamError: String?
    }

    /// Response headers not passed on: hop-by-hop, the upstream's identity and challenges, our own id.
    static let droppedResponseHeaders: [String] = [
        "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate",
        "proxy-authorization", "set-cookie", "server", "www-authenticate", "x-request-id", "alt-svc",
    ]

    /// What a request came to, on the client connection's event loop.
    typealias Completion = @Sendable (Outcome) -> Void

    /// Whether `name` is one of `droppedResponseHeaders`, in any ASCII case.
    static func isDropped(_ name: String) -> Bool {
        let count = name.utf8.count
        return droppedResponseHeaders.contains { dropped in
            dropped.utf8.count == count
                && zip(dropped.utf8, name.utf8).allSatisfy { expected, byte in
                    expected == (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte)
                }
        }
    }

    /// Tries the model's upstreams in turn, on the client connection's event loop (call it there);
    /// `completion` is called once, on that loop.
    static func forward(
        _ request: Request,
        to model: ModelRuntime,
        writer: ResponseWriter,
        cancellation: RequestCancellation,
        completion: @escaping Completion
    ) {
        attempt(
            0,
            of: model.candidates,
            model: model,
            request: request,
            writer: writer,
            cancellation: cancellation,
            outcome: Outcome(status: 502, upstream: nil, attempts: 0, bytes: 0, failure: nil),
            completion: completion
        )
    }

    /// A request as every upstream gets it, but for its model's name.
    struct Request: Sendable {
        let path: String
        /// W3C trace context for the model server (see `AdmittedRequest.upstreamTraceHeaders`).
        let traceHeaders: [(String, String)]
        let body: ByteBuffer
        let inspected: RequestInspector.Inspected
        /// The fields the gateway sets on every upstream's copy (the model's name is added per upstream).
        let patch: RequestBodyPatch
        let accept: String?
        /// Added to the relayed answer's head (`x-ratelimit-*`).
        let extraHeaders: [(String, String)]
        let metering: UpstreamExchange.Metering
    }

    private static func attempt(
        _ index: Int,
        of candidates: [Upstream],
        model: ModelRuntime,
        request: Request,
        writer: ResponseWriter,
        cancellation: RequestCancellation,
        outcome: Outcome,
        completion: @escaping Completion
    ) {
        var outcome = outcome
        if cancellation.isCancelled {
            outcome.failure = .clientClosed
            outcome.status = 499
            completion(outcome)
            return
        }
        guard index < candidates.count else {
            writer.writeError(.upstreamUnavailable("no upstream for \(model.route.name) answered; retry later"))
            outcome.status = 502
            completion(outcome)
            return
        }
        let upstream = candidates[index]
        outcome.attempts += 1
        outcome.upstream = upstream.origin
        let payload = upstreamBody(upstream: upstream, model: model, request: request)
        let head = upstreamHead(
            upstream: upstream,
            path: request.path,
            accept: request.accept,
            traceHeaders: request.traceHeaders,
            length: payload.readableBytes,
            requestID: writer.requestID
        )
        let extraHeaders = request.extraHeaders
        let inspectsAnswers = !request.metering.guardrails.isEmpty
        let decide: @Sendable (HTTPResponseHead) -> HTTPHeaders? = { head in
            // An answer the guardrails cannot read (compressed) does not go through.
            if inspectsAnswers, let encoding = head.headers.first(name: "content-encoding"),
                encoding.lowercased() != "identity"
            {
                return nil
            }
            // A 5xx moves on to the next upstream, and is not relayed; the upstream refusing our
            // credential is the operator's problem, not the caller's.
            if head.status.code >= 500 { return nil }
            if head.status == .unauthorized || head.status == .forbidden { return nil }
            // One pass over the answer's headers (removing the dropped names one by one scanned them all
            // thirteen times).
            var headers = HTTPHeaders()
            headers.reserveCapacity(head.headers.count + extraHeaders.count)
            for (name, value) in head.headers where !isDropped(name) { headers.add(name: name, value: value) }
            for (name, value) in extraHeaders { headers.replaceOrAdd(name: name, value: value) }
            return headers
        }
        let tried = outcome
        let next = { @Sendable (outcome: Outcome) in
            attempt(
                index + 1,
                of: candidates,
                model: model,
                request: request,
                writer: writer,
                cancellation: cancellation,
                outcome: outcome,
                completion: completion
            )
        }
        upstream.connections.forward(
            head: head,
            body: payload,
            writer: writer,
            cancellation: cancellation,
            metering: request.metering,
            decide: decide
        ) { answer in
            var outcome = tried
            switch answer {
            case .success(.declined(let status, _)) where status == .unauthorized || status == .forbidden:
                outcome.failure = .upstreamCredentialRefused
                outcome.status = 502
                writer.writeError(
                    .upstreamUnavailable("the model server refused the gateway's credentials; tell the operator")
                )
                completion(outcome)
            case .success(.declined(let status, let excerpt)):
                outcome.failure = .upstreamErrorStatus
                outcome.upstreamStatus = Int(status.code)
                outcome.upstreamError = excerpt
                next(outcome)
            case .success(.relayed(let status, let relayed)):
                upstream.markHealthy(true)
                outcome.status = Int(status.code)
                outcome.bytes = relayed.bytes
                outcome.usage = relayed.usage
                outcome.firstPiece = relayed.firstPiece
                outcome.findings = relayed.findings
                outcome.endPending = relayed.complete
                outcome.overran = relayed.overran
                outcome.responseModel = relayed.responseModel
                outcome.finishReasons = relayed.finishReasons
                outcome.failure =
                    relayed.complete ? nil : (cancellation.isCancelled ? .clientClosed : .streamInterrupted)
                completion(outcome)
            case .failure(let error):
                guard !cancellation.isCancelled else {
                    outcome.failure = .clientClosed
                    outcome.status = 499
                    completion(outcome)
                    return
                }
                upstream.markHealthy(false)
                switch error {
                case is UpstreamConnectionHandler.Timeout: outcome.failure = .upstreamTimeout
                case is UpstreamResponseParser.Malformed: outcome.failure = .upstreamUnreadable
                case let mismatch as UpstreamHandshake.IdentityMismatch:
                    outcome.failure = .upstreamIdentityRefused
                    outcome.upstreamError = "\(mismatch)"
                case is UpstreamHandshake.Timeout: outcome.failure = .upstreamTLSTimeout
                case is NIOSSLError, is BoringSSLError: outcome.failure = .upstreamTLSFailed
                default: outcome.failure = .upstreamConnectFailed
                }
                next(outcome)
            }
        }
    }

    private static func upstreamHead(
        upstream: Upstream,
        path: String,
        accept: String?,
        traceHeaders: [(String, String)],
        length: Int,
        requestID: String
    ) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(8)
        headers.add(name: "host", value: upstream.connections.hostHeader)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(length))
        headers.add(name: "accept", value: accept ?? "*/*")
        headers.add(name: RequestID.headerName, value: requestID)
        for (name, value) in traceHeaders { headers.add(name: name, value: value) }
        headers.add(name: "user-agent", value: "gatehouse")
        if let credential = upstream.settings.credential {
            headers.add(name: "authorization", value: "Bearer \(credential.revealed)")
        }
        return HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: upstream.settings.basePath + path,
            headers: headers
        )
    }

    /// The body as sent: with the request's patch, and the model's name where the upstream knows the
    /// model by another.
    private static func upstreamBody(upstream: Upstream, model: ModelRuntime, request: Request) -> ByteBuffer {
        var patch = request.patch
        let upstreamModel = upstream.settings.model ?? model.route.name
        if request.inspected.model != upstreamModel { patch.set(.model, json: GatewayError.quoted(upstreamModel)) }
        return request.inspected.patched(request.body, with: patch)
    }
}
