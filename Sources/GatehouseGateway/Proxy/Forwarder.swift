import Foundation
import NIOCore
import NIOHTTP1

/// Sends an admitted request to a model's upstreams and relays the answer piece by piece.
///
/// Upstreams are tried healthy-first, in order; a connect error, a timeout before the response head
/// or a 5xx before the first byte moves on to the next one (the last one's answer is passed through).
/// The caller's `Authorization` never leaves the gateway; the upstream's own credential is added.
enum Forwarder {
    struct Outcome: Sendable {
        var status: Int
        var upstream: String?
        var attempts: Int
        var bytes: Int
        var failure: String?
    }

    /// Response headers not passed on: hop-by-hop, the upstream's identity and challenges, our own id.
    static let droppedResponseHeaders: [String] = [
        "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate",
        "proxy-authorization", "set-cookie", "server", "www-authenticate", "x-request-id", "alt-svc",
    ]

    static func forward(
        model: ModelRuntime,
        path: String,
        body: ByteBuffer,
        inspected: RequestInspector.Inspected,
        accept: String?,
        writer: ResponseWriter
    ) async -> Outcome {
        let candidates = model.candidates
        var outcome = Outcome(status: 502, upstream: nil, attempts: 0, bytes: 0, failure: nil)
        for (index, upstream) in candidates.enumerated() {
            let isLast = index == candidates.count - 1
            outcome.attempts += 1
            outcome.upstream = upstream.settings.origin
            let payload = upstreamBody(upstream: upstream, model: model, body: body, inspected: inspected)
            let head = upstreamHead(
                upstream: upstream,
                path: path,
                accept: accept,
                length: payload.readableBytes,
                requestID: writer.requestID
            )
            let decide: @Sendable (HTTPResponseHead) -> HTTPHeaders? = { head in
                // A 5xx before the first byte moves on to the next upstream; the upstream refusing our
                // credential is the operator's problem, not the caller's.
                if head.status.code >= 500 && !isLast { return nil }
                if head.status == .unauthorized || head.status == .forbidden { return nil }
                var headers = head.headers
                for name in droppedResponseHeaders { headers.remove(name: name) }
                return headers
            }
            let answer: UpstreamConnections.Answer
            do {
                answer = try await upstream.connections.forward(
                    head: head,
                    body: payload,
                    writer: writer,
                    decide: decide
                )
            } catch {
                if Task.isCancelled {
                    outcome.failure = "client went away"
                    outcome.status = 499
                    return outcome
                }
                upstream.markHealthy(false)
                outcome.failure =
                    error is UpstreamLoopPool.UpstreamTimeout ? "upstream response timeout" : "upstream connect error"
                continue
            }
            switch answer {
            case .declined(let status) where status == .unauthorized || status == .forbidden:
                outcome.failure = "upstream refused the gateway's credential"
                outcome.status = 502
                writer.writeError(
                    .upstreamUnavailable("the model server refused the gateway's credentials; tell the operator")
                )
                return outcome
            case .declined(let status):
                outcome.failure = Task.isCancelled ? "client went away" : "upstream status \(status.code)"
                if Task.isCancelled { return outcome }
                continue
            case .relayed(let status, let relayed):
                upstream.markHealthy(true)
                outcome.status = Int(status.code)
                outcome.bytes = relayed.bytes
                outcome.failure =
                    relayed.complete ? nil : (Task.isCancelled ? "client went away" : "stream interrupted")
                return outcome
            }
        }
        writer.writeError(.upstreamUnavailable("no upstream for \(model.route.name) answered; retry later"))
        outcome.status = 502
        return outcome
    }

    private static func upstreamHead(
        upstream: Upstream,
        path: String,
        accept: String?,
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

    /// The body as sent: unchanged, unless the upstream knows the model by another name.
    private static func upstreamBody(
        upstream: Upstream,
        model: ModelRuntime,
        body: ByteBuffer,
        inspected: RequestInspector.Inspected
    ) -> ByteBuffer {
        let upstreamModel = upstream.settings.model ?? model.route.name
        guard inspected.model != upstreamModel else { return body }
        return RequestInspector.renaming(body, model: upstreamModel) ?? body
    }
}
