import Foundation
import GatehouseCore
import NIOCore
import NIOHTTP1

/// Sends an admitted request to an upstream and relays the answer piece by piece.
///
/// A 5xx is never relayed: its text may carry the server's internals (stack traces, paths, versions), so
/// it goes to the log, and the caller gets the gateway's own 502 with the request id (see
/// `RequestMachine`, which tries the upstreams in turn). The caller's `Authorization` never leaves the
/// gateway; the upstream's own credential is added.
enum Forwarder {
    /// What the attempts at a request's upstreams came to.
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

    /// Sends `request` to one of the model's upstreams, on the client connection's event loop (call it
    /// there), relaying its answer unless `decide` turns the head down; `completion` is called once, on
    /// that loop. Which upstream to try next, and what a failure means, is `RequestMachine`'s to say.
    static func send(
        _ request: Request,
        to upstream: Upstream,
        of model: ModelRuntime,
        writer: ResponseWriter,
        cancellation: RequestCancellation,
        completion: @escaping @Sendable (Result<UpstreamConnections.Answer, any Error>) -> Void
    ) {
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
        upstream.connections.forward(
            head: head,
            body: payload,
            writer: writer,
            cancellation: cancellation,
            metering: request.metering,
            decide: decide,
            completion: completion
        )
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
