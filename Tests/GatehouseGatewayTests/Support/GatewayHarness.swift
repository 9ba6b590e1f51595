import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import GatehouseStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A gateway on loopback (port 0) in front of a fixture model, with a fresh data directory, its
/// services running, and a client to call it. `GatewayHarness.with { harness in ... }` shuts it all
/// down afterwards.
struct GatewayHarness: Sendable {
    let gateway: Gateway
    let fixture: FixtureModel
    let store: Store
    let dataDirectory: URL
    let logs: LogCapture
    let client: HTTPClient
    let scheme: String

    var dataPort: Int { gateway.server.dataAddress.port ?? 0 }
    var adminPort: Int { gateway.server.adminAddress.port ?? 0 }
    var base: String { "\(scheme)://127.0.0.1:\(dataPort)" }
    var adminBase: String { "\(scheme)://127.0.0.1:\(adminPort)" }

    /// The fixture's models, each with label `size` (small, large, embedding).
    static func fixtureRoutes(_ fixture: FixtureModel) -> [ModelRoute] {
        FixtureModel.Configuration().models.map { name in
            ModelRoute(
                name: name,
                labels: ["size": name.replacingOccurrences(of: "fixture-", with: "")],
                upstreams: [UpstreamSettings(url: fixture.baseURL)!]
            )
        }
    }

    /// Runs `body` against a gateway. `configure` adjusts the configuration (it starts as the embedded
    /// defaults, TLS off, in front of one fixture); `yaml` instead reads a configuration file in which
    /// `FIXTURE` stands for the fixture's URL.
    static func with<T: Sendable>(
        fixture fixtureConfiguration: FixtureModel.Configuration = .init(),
        yaml: String? = nil,
        tls: Bool = false,
        configure: @Sendable (inout GatewayConfiguration, FixtureModel) -> Void = { _, _ in },
        client clientConfiguration: HTTPClient.Configuration = .init(),
        _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        let fixture = try await FixtureModel.start(configuration: fixtureConfiguration)
        let directory = FileManager.default.temporaryDirectory.appending(path: "gatehouse-test-\(UUID().uuidString)")
        var configuration: GatewayConfiguration
        if let yaml {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appending(path: "gatehouse.yaml").path
            try yaml.replacingOccurrences(of: "FIXTURE", with: fixture.baseURL).write(
                toFile: file,
                atomically: true,
                encoding: .utf8
            )
            configuration = try GatewayConfiguration.load(file: file)
        } else {
            configuration = .embeddedDefaults(models: fixtureRoutes(fixture))
        }
        configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.adminListen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.tls.enabled = tls
        configure(&configuration, fixture)
        let logs = LogCapture()
        let gateway = try await Gateway.start(
            configuration: configuration,
            dataDirectory: directory,
            overrides: { configuration in
                configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
                configuration.adminListen = ListenAddress(host: "127.0.0.1", port: 0)
                configuration.tls.enabled = tls
            },
            logger: logs.logger
        )
        var clientConfiguration = clientConfiguration
        if tls && clientConfiguration.tlsConfiguration == nil {
            var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
            tlsConfiguration.certificateVerification = .none
            clientConfiguration.tlsConfiguration = tlsConfiguration
        }
        clientConfiguration.decompression = .disabled
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
        let harness = GatewayHarness(
            gateway: gateway,
            fixture: fixture,
            store: try Store(directory: directory),
            dataDirectory: directory,
            logs: logs,
            client: client,
            scheme: tls ? "https" : "http"
        )
        let group = ServiceGroup(services: gateway.services, gracefulShutdownSignals: [], logger: logs.logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            do {
                let result = try await body(harness)
                await group.triggerGracefulShutdown()
                try await tasks.next()
                try await client.shutdown()
                try await fixture.stop()
                try? FileManager.default.removeItem(at: directory)
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await client.shutdown()
                try? await fixture.stop()
                try? FileManager.default.removeItem(at: directory)
                throw error
            }
        }
    }

    /// A new API key's text, once the running gateway has loaded it (the refresher polls every 250 ms).
    func key(
        _ name: String = "caller",
        labels: [String: String] = [:],
        expiresAt: Date? = nil,
        quota: KeyQuota = KeyQuota()
    ) async throws -> String {
        let created = try store.createKey(kind: .api, name: name, labels: labels, expiresAt: expiresAt, quota: quota)
        // The models route answers 200 for any known key, whatever the policies; 401 until it is loaded.
        // A pooled connection the gateway closed as idle (tests set short idle timeouts, and a loaded
        // machine can stall between polls) may reset: that poll just does not count.
        for _ in 0..<100 {
            try await Task.sleep(for: .milliseconds(50))
            if (try? await call(.GET, "/v1/models", key: created.secret.text))?.status == 200 { break }
        }
        return created.secret.text
    }

    /// Whether a log line containing `text` appears within a second (a request's line is written just
    /// after its response, so a client may see the answer first).
    func logged(_ text: String) async -> Bool {
        for _ in 0..<50 {
            if logs.text.contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// A request to the data plane; returns status, headers and the whole body.
    func call(
        _ path: String,
        key: String? = nil,
        json: String? = nil,
        headers: [(String, String)] = []
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        try await call(.POST, path, key: key, json: json, headers: headers)
    }

    func call(
        _ method: HTTPMethod,
        _ path: String,
        key: String? = nil,
        json: String? = nil,
        headers: [(String, String)] = [],
        admin: Bool = false
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: (admin ? adminBase : base) + path)
        request.method = method
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), response.headers, String(buffer: body))
    }

    /// The audit records of requests to `route` (all routes when nil), once `count` of them are stored
    /// and `done` says so (records reach the store in batches, just after their answers).
    func audit(
        route: String? = "/v1/chat/completions",
        count: Int = 1,
        until done: ([AuditEntry]) -> Bool = { _ in true }
    ) async throws -> [AuditEntry] {
        var query = AuditQuery()
        query.limit = 100_000
        var entries: [AuditEntry] = []
        for _ in 0..<100 {
            entries = try store.auditRecords(query).map(\.entry).filter { route == nil || $0.route == route }
            if entries.count >= count && done(entries) { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        return entries
    }

    static func chat(_ model: String = "fixture-small", stream: Bool = false, extra: String = "") -> String {
        "{\"model\":\"\(model)\",\"stream\":\(stream),\"messages\":[{\"role\":\"user\",\"content\":\"hello there\"}]\(extra)}"
    }
}
