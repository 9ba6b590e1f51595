import Foundation
import GatehouseCore
import GatehousePolicy
import GatehouseStore
import Logging
import NIOCore
import NIOHTTP1

/// The data plane: the OpenAI routes, and nothing else. Authenticates at the head (before the body is
/// read), decides model access with the policy engine, and forwards to the model's upstreams.
struct DataPlane: Responder {
    enum Route: String, Sendable {
        case chatCompletions = "/v1/chat/completions"
        case completions = "/v1/completions"
        case embeddings = "/v1/embeddings"
        case models = "/v1/models"

        var method: HTTPMethod { self == .models ? .GET : .POST }
    }

    let state: GatewayState
    let authenticator: Authenticator
    let logger: Logger

    var limits: RequestLimits { state.runtime.configuration.limits }

    func admit(
        head: HTTPRequestHead,
        requestID: String,
        certificateNames: [String]
    ) -> Result<AdmittedRequest, GatewayError> {
        // Routing uses the raw path only: never a URL rebuilt from Host.
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let route = Route(rawValue: String(path)) else {
            log(head: head, requestID: requestID, status: 404, extra: ["gatehouse.reason": "no route"])
            return .failure(.notFound)
        }
        guard head.method == route.method else { return .failure(.methodNotAllowed(route.method.rawValue)) }
        let runtime = state.runtime
        let result = authenticator.authenticate(
            headers: head.headers,
            certificateNames: certificateNames,
            runtime: runtime,
            kind: .api,
            now: Date()
        )
        if case .rejected = result {
            log(head: head, requestID: requestID, status: 401, extra: ["gatehouse.reason": "not authenticated"])
            return .failure(.unauthenticated)
        }
        return .success(
            AdmittedRequest(
                head: head,
                path: route.rawValue,
                requestID: requestID,
                authentication: result,
                runtime: runtime,
                started: .now
            )
        )
    }

    /// Called on the connection's event loop. A caller known from the head (key, certificate) is
    /// answered without a Swift task: the whole request runs as futures on that loop. A bearer token is
    /// verified in a task first (jwt-kit is asynchronous), then the request continues on the loop.
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
            cancellation.hold(
                Task {
                    guard let identity = await verifier.identify(token: token, header: header, now: Date()) else {
                        log(request, status: 401, extra: ["gatehouse.reason": "token not valid"])
                        writer.writeError(.unauthenticated)
                        return
                    }
                    guard !Task.isCancelled else { return }
                    eventLoop.execute {
                        proceed(request, identity: identity, body: body, writer: writer, cancellation: cancellation)
                    }
                }
            )
        case .rejected:
            writer.writeError(.unauthenticated)
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
            log(
                request,
                identity: identity,
                status: Int(error.status.code),
                extra: ["gatehouse.reason": "\(error.code)"]
            )
            writer.writeError(error)
            return
        case .success(let result):
            inspected = result
        }
        guard let model = request.runtime.model(named: inspected.model) else {
            log(request, identity: identity, status: 404, extra: ["gatehouse.reason": "unknown model"])
            writer.writeError(
                GatewayError(
                    .notFound,
                    type: "invalid_request_error",
                    code: "model_not_found",
                    message: "the model \(GatewayError.quoted(String(inspected.model.prefix(64)))) does not exist"
                )
            )
            return
        }
        let decision = request.runtime.access.evaluate(caller: identity.subject, model: model.subject)
        guard decision.verdict == .allow else {
            log(
                request,
                identity: identity,
                status: 403,
                extra: [
                    "gatehouse.model": "\(model.route.name)", "gatehouse.decision": "\(decision.outcome)",
                    "gatehouse.trace": "\(decision.compactTrace)",
                ]
            )
            writer.writeError(.forbidden("\(identity.name) may not use the model \(model.route.name)"))
            return
        }
        Forwarder.forward(
            model: model,
            path: request.path,
            body: body,
            inspected: inspected,
            accept: request.head.headers.first(name: "accept"),
            writer: writer,
            cancellation: cancellation
        ).whenSuccess { outcome in
            var extra: Logger.Metadata = [
                "gatehouse.model": .string(model.route.name),
                "gatehouse.decision": .stringConvertible(decision.outcome),
                "gatehouse.stream": .stringConvertible(inspected.stream),
                "gatehouse.attempts": .stringConvertible(outcome.attempts),
                "gatehouse.bytes": .stringConvertible(outcome.bytes),
            ]
            if let upstream = outcome.upstream { extra["gatehouse.upstream"] = .string(upstream) }
            if let failure = outcome.failure { extra["gatehouse.reason"] = .string(failure) }
            log(request, identity: identity, status: outcome.status, extra: extra)
        }
    }

    /// The models the caller may use, in OpenAI's list shape.
    private func listModels(_ request: AdmittedRequest, identity: Identity, writer: ResponseWriter) {
        var items: [String] = []
        for model in request.runtime.models {
            guard request.runtime.access.evaluate(caller: identity.subject, model: model.subject).verdict == .allow
            else {
                continue
            }
            for name in [model.route.name] + model.route.aliases {
                items.append(
                    "{\"id\":\(GatewayError.quoted(name)),\"object\":\"model\",\"created\":0,\"owned_by\":\"gatehouse\"}"
                )
            }
        }
        log(request, identity: identity, status: 200, extra: ["gatehouse.models": "\(items.count)"])
        writer.writeJSON(status: .ok, "{\"object\":\"list\",\"data\":[\(items.joined(separator: ","))]}")
    }

    // MARK: Logging (one line per request; never a credential or a body)

    private func log(_ request: AdmittedRequest, identity: Identity? = nil, status: Int, extra: Logger.Metadata) {
        var metadata = extra
        metadata.reserveCapacity(16)
        metadata["gatehouse.request.id"] = .string(request.requestID)
        metadata["gatehouse.route"] = .string(request.path)
        metadata["gatehouse.status"] = .stringConvertible(status)
        metadata["gatehouse.duration_ms"] = .string(Self.milliseconds(since: request.started))
        if let identity {
            metadata["gatehouse.identity"] = .string(identity.name)
            metadata["gatehouse.auth"] = .string(identity.method.rawValue)
        }
        logger.info("request", metadata: metadata)
    }

    private func log(head: HTTPRequestHead, requestID: String, status: Int, extra: Logger.Metadata) {
        var metadata = extra
        metadata["gatehouse.request.id"] = .string(requestID)
        metadata["gatehouse.method"] = .string(head.method.rawValue)
        metadata["gatehouse.status"] = .stringConvertible(status)
        logger.info("request", metadata: metadata)
    }

    private static func milliseconds(since start: ContinuousClock.Instant) -> String {
        let elapsed = (ContinuousClock.now - start).components
        let hundredths = elapsed.seconds * 100_000 + elapsed.attoseconds / 10_000_000_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
