import Foundation
import GatehouseCore
import GatehouseStore
import Logging
import NIOCore
import NIOHTTP1

/// The admin API, served on the admin listener only and authenticated by an admin key:
///
/// - `GET /v1/keys` lists API keys (never their secrets);
/// - `POST /v1/keys` `{"name", "labels", "expiresAt" | "expiresIn"}` creates one and shows its secret once;
/// - `DELETE /v1/keys/{name or id}` revokes one;
/// - `GET /healthz` answers without authentication, for probes.
struct AdminPlane: Responder {
    let state: GatewayState
    let authenticator: Authenticator
    let store: Store
    let keys: KeyDirectory
    let logger: Logger

    var limits: RequestLimits {
        var limits = state.runtime.configuration.limits
        limits.maxBodyBytes = min(limits.maxBodyBytes, 64 << 10)
        return limits
    }

    func admit(
        head: HTTPRequestHead,
        requestID: String,
        certificateNames: [String]
    ) -> Result<AdmittedRequest, GatewayError> {
        let path = String(head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        if path == "/healthz" {
            return head.method == .GET
                ? .success(admitted(head, path: path, requestID: requestID, authentication: .rejected))
                : .failure(.methodNotAllowed("GET"))
        }
        guard path == "/v1/keys" || path.hasPrefix("/v1/keys/") else { return .failure(.notFound) }
        let result = authenticator.authenticate(
            headers: head.headers,
            certificateNames: [],
            runtime: state.runtime,
            kind: .admin,
            now: Date()
        )
        guard case .identified(let identity) = result else {
            logger.info("admin request", metadata: ["gatehouse.request.id": "\(requestID)", "gatehouse.status": "401"])
            return .failure(.unauthenticated)
        }
        return .success(admitted(head, path: path, requestID: requestID, authentication: .identified(identity)))
    }

    func respond(
        to request: AdmittedRequest,
        body: ByteBuffer,
        writer: ResponseWriter,
        cancellation: RequestCancellation
    ) {
        // The store's calls are synchronous SQLite reads and writes; a task lets the handler return at once.
        cancellation.hold(Task { respondInTask(to: request, body: body, writer: writer) })
    }

    private func respondInTask(to request: AdmittedRequest, body: ByteBuffer, writer: ResponseWriter) {
        let (status, json) = answer(request, body: body)
        if let identity = request.identity {
            logger.info(
                "admin request",
                metadata: [
                    "gatehouse.request.id": "\(request.requestID)", "gatehouse.identity": "\(identity.name)",
                    "gatehouse.method": "\(request.head.method.rawValue)", "gatehouse.route": "\(request.path)",
                    "gatehouse.status": "\(status.code)",
                ]
            )
        }
        writer.writeJSON(status: status, json)
    }

    private func admitted(
        _ head: HTTPRequestHead,
        path: String,
        requestID: String,
        authentication: Authenticator.Result
    ) -> AdmittedRequest {
        AdmittedRequest(
            head: head,
            path: path,
            requestID: requestID,
            authentication: authentication,
            runtime: state.runtime,
            started: .now
        )
    }

    private func answer(_ request: AdmittedRequest, body: ByteBuffer) -> (HTTPResponseStatus, String) {
        switch (request.head.method, request.path) {
        case (.GET, "/healthz"):
            return (.ok, "{\"status\":\"ok\"}")
        case (.GET, "/v1/keys"):
            return run(request) { try KeyJSON.list(store.keys(kind: .api)) }
        case (.POST, "/v1/keys"):
            return run(request, created: true) {
                let input = try KeyJSON.creation(from: body)
                let created = try store.createKey(
                    kind: .api,
                    name: input.name,
                    labels: input.labels,
                    expiresAt: input.expiresAt,
                    quota: input.quota
                )
                try keys.reload(from: store)
                return KeyJSON.render(created.key, secret: created.secret.text)
            }
        case (.DELETE, _) where request.path.hasPrefix("/v1/keys/"):
            let target = String(request.path.dropFirst("/v1/keys/".count)).removingPercentEncoding ?? ""
            return run(request) {
                let key = try store.revokeKey(kind: .api, target)
                try keys.reload(from: store)
                return KeyJSON.render(key, secret: nil)
            }
        case (_, "/v1/keys"):
            return (.methodNotAllowed, GatewayError.methodNotAllowed("GET, POST").body(requestID: request.requestID))
        default:
            return (.methodNotAllowed, GatewayError.methodNotAllowed("DELETE").body(requestID: request.requestID))
        }
    }

    private func run(
        _ request: AdmittedRequest,
        created: Bool = false,
        _ body: () throws -> String
    ) -> (HTTPResponseStatus, String) {
        do {
            return (created ? .created : .ok, try body())
        } catch let error as StoreError {
            let status: HTTPResponseStatus
            switch error.code {
            case .notFound: status = .notFound
            case .conflict: status = .conflict
            case .invalid: status = .badRequest
            default: status = .serviceUnavailable
            }
            let answer = GatewayError(
                status,
                type: "invalid_request_error",
                code: error.code.rawValue,
                message: error.reason
            )
            return (status, answer.body(requestID: request.requestID))
        } catch let error as GatewayError {
            return (error.status, error.body(requestID: request.requestID))
        } catch {
            return (
                .internalServerError,
                GatewayError(.internalServerError, type: "api_error", code: "internal", message: "the request failed")
                    .body(requestID: request.requestID)
            )
        }
    }
}
