import Crypto
import Foundation
import GatehouseCore
import GatehouseFlows
import GatehouseStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

/// The admin API, served on the admin listener only and authenticated by an admin key:
///
/// - `GET /v1/keys` lists API keys (never their secrets);
/// - `POST /v1/keys` `{"name", "labels", "expiresAt" | "expiresIn"}` creates one and shows its secret once;
/// - `DELETE /v1/keys/{name or id}` revokes one;
/// - `GET /v1/flows?from-namespace=…&verdict=deny&last=50` lists stored flows (`FlowParameters`), and
///   with `follow=true` keeps the answer open as a server-sent event stream of new flows as they happen;
/// - `GET /metrics` is the Prometheus text exposition;
/// - `GET /v1/budgets` and `GET /v1/policies` (budgets in their windows; access policies with the models
///   each rule matches), for the console;
/// - `GET /console` is the web console (its page and script carry no data and need no key; everything
///   it shows comes from the calls above, made with the admin key);
/// - `GET /healthz` answers without authentication, for liveness probes: the process serves requests;
/// - `GET /readyz` answers without authentication, for readiness probes: 200 when the gateway takes
///   requests, 503 from the start of shutdown (through the shutdown delay, while it still accepts) and
///   while its store cannot be reached; it is not bound before the configuration loaded.
///
/// The routes are a `switch` on method and exact path, not Hummingbird's router: that router works only
/// inside Hummingbird's own server, with its request and context types, and the admin plane is a
/// `Responder` of the same connection handler as the data plane, sharing its TLS and client
/// certificates, head and body limits, timeouts, request ids and error answers. A second HTTP stack for
/// nine fixed paths (one with a key's name after it) would double what must be kept safe.
struct AdminPlane: Responder {
    static let authenticatedPaths: Set<String> = ["/v1/keys", "/v1/flows", "/metrics", "/v1/budgets", "/v1/policies"]
    static let consolePaths: Set<String> = ["/console", "/console/", "/console/app.js", "/console/app.css"]

    let state: GatewayState
    let authenticator: Authenticator
    let store: Store
    let keys: KeyDirectory
    let telemetry: GatewayTelemetry
    let ledger: SpendLedger
    let tracker: ConnectionTracker
    let logger: Logger

    var limits: RequestLimits {
        var limits = state.runtime.configuration.limits
        limits.maxBodyBytes = min(limits.maxBodyBytes, 64 << 10)
        return limits
    }

    func admit(
        head: HTTPRequestHead,
        requestID: String,
        connection: inout ConnectionFacts
    ) -> Result<AdmittedRequest, GatewayError> {
        let path = String(head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        if path == "/healthz" || path == "/readyz" || Self.consolePaths.contains(path) {
            return head.method == .GET
                ? .success(admitted(head, path: path, requestID: requestID, authentication: .rejected))
                : .failure(.methodNotAllowed("GET"))
        }
        guard Self.authenticatedPaths.contains(path) || path.hasPrefix("/v1/keys/") else { return .failure(.notFound) }
        let result = authenticator.authenticate(
            headers: head.headers,
            connection: &connection,
            runtime: state.runtime,
            kind: .admin,
            now: Date()
        )
        if path == "/metrics", case .rejected = result, let scraper = scrapeIdentity(head.headers) {
            return .success(admitted(head, path: path, requestID: requestID, authentication: .identified(scraper)))
        }
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
        cancellation.hold(Task { await respondInTask(to: request, body: body, writer: writer) })
    }

    private func respondInTask(to request: AdmittedRequest, body: ByteBuffer, writer: ResponseWriter) async {
        switch (request.head.method, request.path) {
        case (.GET, "/metrics"):
            await Self.offLoop { refreshGauges() }
            logRequest(request, status: .ok)
            writer.write(
                status: .ok,
                contentType: "text/plain; version=0.0.4; charset=utf-8",
                writer.channel.allocator.buffer(bytes: telemetry.metrics.exposition())
            )
        case (.GET, "/v1/flows"):
            await flows(request, writer: writer)
        case (.GET, "/console"), (.GET, "/console/"), (.GET, "/console/app.js"), (.GET, "/console/app.css"):
            let file = ConsoleFile(path: request.path)
            writer.write(
                status: .ok,
                contentType: file.contentType,
                writer.channel.allocator.buffer(bytes: file.bytes),
                headers: Self.consoleHeaders
            )
        default:
            switch await Self.offLoop({ answer(request, body: body) }) {
            case .success(let (status, json)):
                logRequest(request, status: status)
                writer.writeJSON(status: status, json)
            case .failure(let error):
                logRequest(request, status: error.status)
                writer.writeError(error)
            }
        }
    }

    /// The scraper, when the request carries the configured metrics token (compared by digest, in
    /// constant time).
    private func scrapeIdentity(_ headers: HTTPHeaders) -> Identity? {
        guard let digest = state.runtime.configuration.metricsTokenDigest,
            let authorization = headers.first(name: "authorization"),
            let token = Authenticator.bearerToken(Substring(authorization))
        else { return nil }
        let presented = Array(SHA256.hash(data: Data(token.utf8)))
        guard presented.count == digest.count else { return nil }
        let difference = zip(presented, digest).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) }
        guard difference == 0 else { return nil }
        return Identity(name: "metrics-scraper", method: .metricsToken, labels: [:])
    }

    /// The console loads nothing from elsewhere and runs no inline code; it may not be framed.
    static let consoleHeaders = [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                + "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        ),
        ("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer"), ("cache-control", "no-cache"),
    ]

    private func logRequest(_ request: AdmittedRequest, status: HTTPResponseStatus) {
        guard let identity = request.identity else { return }
        logger.info(
            "admin request",
            metadata: [
                "gatehouse.request.id": "\(request.requestID)", "gatehouse.identity": "\(identity.name)",
                "gatehouse.method": "\(request.head.method.rawValue)", "gatehouse.route": "\(request.path)",
                "gatehouse.status": "\(status.code)",
            ]
        )
    }

    /// Budgets and upstream health, read when Prometheus scrapes.
    private func refreshGauges() {
        let upstreams = state.runtime.models.flatMap { model in
            model.upstreams.map { (model: model.route.name, origin: $0.origin, healthy: $0.isHealthy) }
        }
        let budgets = (try? store.budgets()) ?? []
        telemetry.metrics.refresh(budgets: budgets, upstreams: upstreams)
    }

    /// Stored flows as JSON, or, with `follow`, the stored ones and then new ones as server-sent events.
    private func flows(_ request: AdmittedRequest, writer: ResponseWriter) async {
        let parameters: FlowParameters
        do {
            parameters = try FlowParameters(Self.queryItems(request.head.uri))
        } catch {
            let answer = GatewayError(
                .badRequest,
                type: "invalid_request_error",
                code: .invalidParameter,
                message: "\(error)"
            )
            logRequest(request, status: .badRequest)
            writer.writeError(answer)
            return
        }
        let encoder = FlowListing.makeEncoder()
        let query = FlowQuery(filter: parameters.query, limit: parameters.limit, after: parameters.after)
        // Live: subscribe before reading, so nothing recorded meanwhile falls between the two (a record
        // may then show twice, once in an open bucket and once live; none is lost).
        let live = parameters.follow ? telemetry.flows.hub.subscribe(parameters.query) : nil
        let items: [FlowListing.Item]
        do {
            let aggregator = telemetry.flows.aggregator
            items = try await Self.offLoop {
                // Flows of buckets still open are listed too (without an id): a request shows up at once.
                let stored = try store.flows(query).map { FlowListing.Item(id: $0.id, flow: $0.flow) }
                let open = aggregator.snapshot().filter(parameters.query.matches)
                return Array((stored + open.map { FlowListing.Item(id: nil, flow: $0) }).suffix(parameters.limit))
            }
        } catch {
            logRequest(request, status: .serviceUnavailable)
            let reason = (error as? StoreError)?.reason ?? "the flow store could not be read"
            writer.writeError(
                GatewayError(.serviceUnavailable, type: "api_error", code: .storeUnavailable, message: reason)
            )
            return
        }
        logRequest(request, status: .ok)
        guard let live else {
            let body = (try? encoder.encode(FlowListing(items: items))) ?? Data("{\"items\":[]}".utf8)
            writer.write(status: .ok, contentType: "application/json", writer.channel.allocator.buffer(bytes: body))
            return
        }
        writer.writeHead(
            status: .ok,
            headers: ["content-type": "text/event-stream", "cache-control": "no-cache", "x-accel-buffering": "no"]
        )
        writer.channel.flush()
        func send(_ item: FlowListing.Item) async -> Bool {
            guard let json = try? encoder.encode(item) else { return true }
            return (try? await writer.writeChunk("data: " + String(decoding: json, as: UTF8.self) + "\n\n").get())
                != nil
        }
        for item in items where await !send(item) { return }
        let heartbeat = Task {
            while true {
                do {
                    try await Task.sleep(for: .seconds(15))
                } catch {
                    return
                }
                guard (try? await writer.writeChunk(": keep-alive\n\n").get()) != nil else { return }
            }
        }
        for await flow in live where await !send(FlowListing.Item(id: nil, flow: flow)) {
            heartbeat.cancel()
            return
        }
        // The gateway is shutting down: the heartbeat stops before the response ends.
        heartbeat.cancel()
        _ = await heartbeat.result
        writer.writeEnd(closes: true)
    }

    /// The admin API's JSON, in the style of its flow listings (sorted keys, RFC 3339 times).
    private static func json(_ value: some Encodable) throws -> String {
        String(decoding: try FlowListing.makeEncoder().encode(value), as: UTF8.self)
    }

    /// Runs blocking store work on NIO's thread pool: in `serve`, tasks run on the event loops.
    private static func offLoop<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }

    private static func offLoop<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        // The pool only fails when shut down, which happens after the listeners close.
        (try? await NIOThreadPool.singleton.runIfActive(work)) ?? work()
    }

    /// `?a=1&b=x%20y` as name-value pairs, percent-decoded (`+` as a space).
    static func queryItems(_ uri: String) -> [(String, String)] {
        guard let question = uri.firstIndex(of: "?") else { return [] }
        return uri[uri.index(after: question)...].split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
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

    /// The answer's status and JSON, or the error to answer with (written, like every error, by
    /// `ResponseWriter.writeError`).
    private func answer(
        _ request: AdmittedRequest,
        body: ByteBuffer
    ) -> Result<(HTTPResponseStatus, String), GatewayError> {
        switch (request.head.method, request.path) {
        case (.GET, "/healthz"):
            return .success((.ok, "{\"status\":\"ok\"}"))
        case (.GET, "/readyz"):
            if tracker.isStopping { return .success((.serviceUnavailable, "{\"status\":\"draining\"}")) }
            if !ledger.canRecord { return .success((.serviceUnavailable, "{\"status\":\"store_unreachable\"}")) }
            return .success((.ok, "{\"status\":\"ready\"}"))
        case (.GET, "/v1/keys"):
            return run { try KeyJSON.list(store.keys(kind: .api)) }
        case (.GET, "/v1/budgets"):
            return run { try Self.json(BudgetListing(store.budgets())) }
        case (.GET, "/v1/policies"):
            return run { try Self.json(AccessPolicyJSON(state.runtime)) }
        case (.POST, "/v1/keys"):
            return run(created: true) {
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
            return run {
                let key = try store.revokeKey(kind: .api, target)
                try keys.reload(from: store)
                return KeyJSON.render(key, secret: nil)
            }
        case (_, "/v1/keys"):
            return .failure(.methodNotAllowed("GET, POST"))
        default:
            return .failure(.methodNotAllowed("DELETE"))
        }
    }

    private func run(
        created: Bool = false,
        _ body: () throws -> String
    ) -> Result<(HTTPResponseStatus, String), GatewayError> {
        do {
            return .success((created ? .created : .ok, try body()))
        } catch let error as StoreError {
            let status: HTTPResponseStatus
            let code: RequestReason
            switch error.code {
            case .notFound: (status, code) = (.notFound, .notFound)
            case .conflict: (status, code) = (.conflict, .conflict)
            case .invalid: (status, code) = (.badRequest, .invalidParameter)
            default: (status, code) = (.serviceUnavailable, .storeUnavailable)
            }
            return .failure(GatewayError(status, type: "invalid_request_error", code: code, message: error.reason))
        } catch let error as GatewayError {
            return .failure(error)
        } catch {
            return .failure(
                GatewayError(
                    .internalServerError,
                    type: "api_error",
                    code: .internalError,
                    message: "the request failed"
                )
            )
        }
    }
}
