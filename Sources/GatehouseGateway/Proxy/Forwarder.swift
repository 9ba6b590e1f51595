import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends an admitted request to a model's upstreams and streams the answer back piece by piece.
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
    static let droppedResponseHeaders: Set<String> = [
        "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authenticate",
        "proxy-authorization", "set-cookie", "server", "www-authenticate", "x-request-id", "alt-svc",
    ]

    struct ResponseHeadTimeout: Error {}

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
            let request = upstreamRequest(
                upstream: upstream,
                model: model,
                path: path,
                body: body,
                inspected: inspected,
                accept: accept,
                requestID: writer.requestID
            )
            let response: HTTPClientResponse
            do {
                response = try await execute(request, on: upstream)
            } catch is CancellationError {
                outcome.failure = "client went away"
                outcome.status = 499
                return outcome
            } catch {
                if Task.isCancelled {
                    outcome.failure = "client went away"
                    outcome.status = 499
                    return outcome
                }
                upstream.markHealthy(false)
                outcome.failure = error is ResponseHeadTimeout ? "upstream response timeout" : "upstream connect error"
                continue
            }
            if response.status.code >= 500 && !isLast {
                outcome.failure = "upstream status \(response.status.code)"
                _ = try? await response.body.collect(upTo: 1 << 20)
                continue
            }
            if response.status == .unauthorized || response.status == .forbidden {
                _ = try? await response.body.collect(upTo: 1 << 20)
                outcome.failure = "upstream refused the gateway's credential"
                outcome.status = 502
                writer.writeError(
                    .upstreamUnavailable("the model server refused the gateway's credentials; tell the operator")
                )
                return outcome
            }
            upstream.markHealthy(true)
            outcome.failure = nil
            outcome.status = Int(response.status.code)
            await relay(response, writer: writer, outcome: &outcome)
            return outcome
        }
        writer.writeError(.upstreamUnavailable("no upstream for \(model.route.name) answered; retry later"))
        outcome.status = 502
        return outcome
    }

    private static func upstreamRequest(
        upstream: Upstream,
        model: ModelRuntime,
        path: String,
        body: ByteBuffer,
        inspected: RequestInspector.Inspected,
        accept: String?,
        requestID: String
    ) -> HTTPClientRequest {
        let settings = upstream.settings
        var request = HTTPClientRequest(url: settings.origin + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: accept ?? "*/*")
        request.headers.add(name: RequestID.headerName, value: requestID)
        request.headers.add(name: "user-agent", value: "gatehouse")
        if let credential = settings.credential {
            request.headers.add(name: "authorization", value: "Bearer \(credential.revealed)")
        }
        let upstreamModel = settings.model ?? model.route.name
        if inspected.model == upstreamModel {
            request.body = .bytes(body)
        } else {
            var object = inspected.object
            object["model"] = upstreamModel
            let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data(body.readableBytesView)
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        return request
    }

    /// Runs the request, giving up when the response head takes longer than the upstream's timeout.
    /// (AsyncHTTPClient's deadline ends when the head arrives; the body then streams for as long as it lasts.)
    private static func execute(_ request: HTTPClientRequest, on upstream: Upstream) async throws -> HTTPClientResponse {
        do {
            return try await upstream.client.execute(request, deadline: .now() + TimeAmount(upstream.settings.responseTimeout))
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw ResponseHeadTimeout()
        }
    }

    private static func relay(_ response: HTTPClientResponse, writer: ResponseWriter, outcome: inout Outcome) async {
        var headers: [(String, String)] = []
        for field in response.headers where !droppedResponseHeaders.contains(field.name.lowercased()) {
            headers.append((field.name, field.value))
        }
        do {
            writer.writeHead(status: response.status, headers: headers)
            for try await chunk in response.body {
                outcome.bytes += chunk.readableBytes
                try await writer.writeBody(chunk)
            }
            writer.writeEnd()
        } catch {
            // The client left or the upstream broke mid-answer: the status is sent, so the connection closes.
            outcome.failure = Task.isCancelled ? "client went away" : "stream interrupted"
            writer.finished(false)
        }
    }
}
