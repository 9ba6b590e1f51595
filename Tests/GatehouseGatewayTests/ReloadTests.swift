import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import GatehouseGuard
import GatehousePolicy
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing

/// Configuration: decoding errors with file, line and field; reloads that apply or are refused whole;
/// graceful shutdown that lets streams finish.
@Suite struct ReloadTests {
    static let allowSmall = """
        models:
          - name: fixture-small
            labels: {size: small}
            upstreams: [{url: FIXTURE}]
        access:
          policies:
            - name: small
              selector: all()
              rules: [{action: Allow, models: {selector: size == 'small'}}]
        """

    @Test func aValidFileIsAppliedAndAnInvalidOneLeavesTheLastGoodInForce() async throws {
        try await GatewayHarness.with(yaml: Self.allowSmall) { harness in
            let key = try await harness.key()
            let file = harness.dataDirectory.appending(path: "gatehouse.yaml").path
            #expect(try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status == 200)
            let fixtureURL = harness.fixture.baseURL
            let denying = Self.allowSmall.replacingOccurrences(of: "FIXTURE", with: fixtureURL)
                .replacingOccurrences(of: "action: Allow", with: "action: Deny")
            try denying.write(toFile: file, atomically: true, encoding: .utf8)
            // No signal: the file watcher notices the change within a couple of seconds.
            var status = 0
            for _ in 0..<40 where status != 403 {
                try await Task.sleep(for: .milliseconds(100))
                status = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status
            }
            #expect(status == 403)
            #expect(await harness.logged("gatehouse.reason=file changed"))
            try "models:\n  - name: x\n    upstreams: [{url: ftp://nope}]\n".write(
                toFile: file,
                atomically: true,
                encoding: .utf8
            )
            #expect(!harness.gateway.reloadConfiguration())
            #expect(await harness.logged("configuration refused"))
            #expect(await harness.logged("gatehouse.yaml:3"))
            #expect(try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status == 403)
        }
    }

    /// A ConfigMap volume: `gatehouse.yaml` links to `..data/gatehouse.yaml`, `..data` to a timestamped
    /// directory, and an update writes a new directory and swaps `..data`; the link itself never changes.
    @Test func aConfigMapVolumeUpdateIsApplied() async throws {
        try await GatewayHarness.with(yaml: Self.allowSmall) { harness in
            let key = try await harness.key()
            let volume = harness.dataDirectory
            let file = volume.appending(path: "gatehouse.yaml").path
            let manager = FileManager.default
            func project(_ text: String, into directory: String) throws {
                let target = volume.appending(path: directory)
                try manager.createDirectory(at: target, withIntermediateDirectories: true)
                try text.write(to: target.appending(path: "gatehouse.yaml"), atomically: true, encoding: .utf8)
                let staged = volume.appending(path: "..data_tmp").path
                try manager.createSymbolicLink(atPath: staged, withDestinationPath: directory)
                #expect(rename(staged, volume.appending(path: "..data").path) == 0)
            }
            let allowing = try String(contentsOfFile: file, encoding: .utf8)
            try project(allowing, into: "..2026_12_05_06_00_00.1")
            try manager.removeItem(atPath: file)
            try manager.createSymbolicLink(atPath: file, withDestinationPath: "..data/gatehouse.yaml")
            #expect(try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status == 200)
            try await Task.sleep(for: .milliseconds(1_500))
            try project(
                allowing.replacingOccurrences(of: "action: Allow", with: "action: Deny"),
                into: "..2026_12_05_06_00_05.2"
            )
            var status = 0
            for _ in 0..<40 where status != 403 {
                try await Task.sleep(for: .milliseconds(100))
                status = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status
            }
            #expect(status == 403)
        }
    }

    @Test(arguments: [
        ("listen: nowhere\n", "1:9", "listen"),
        ("models:\n  - name: a\n    upstreams: []\n", "3:16", "models[0].upstreams"),
        ("models:\n  - name: a\n    upstream: [{url: http://x}]\n", "3:5", "models[0].upstream"),
        ("access:\n  policies:\n    - name: p\n      tier: missing\n", "3:7", "access.policies[0]"),
        ("access:\n  policies:\n    - name: p\n      selector: team ==\n", "4:17", "access.policies[0].selector"),
        (
            "authentication:\n  jwt:\n    - issuer: i\n      audiences: [a]\n      algorithms: [HS256]\n      jwksFile: k\n",
            "5:19", "authentication.jwt[0].algorithms"
        ),
        (
            "authentication:\n  jwt:\n    - issuer: https://i#x\n      audiences: [a]\n      algorithms: [ES256]\n      jwksFile: k\n",
            "3:15", "authentication.jwt[0].issuer"
        ),
        ("limits:\n  maxBodyBytes: lots\n", "2:17", "limits.maxBodyBytes"),
        ("limits:\n  handshakeTimeout: soon\n", "2:21", "limits.handshakeTimeout"),
        ("limits:\n  budgetWait: 2m\n", "2:15", "limits.budgetWait"),
        (
            "models:\n  - name: a\n    upstreams: [{url: \"https://m\", tls: {ca: /nonexistent.pem}}]\n", "3:44",
            "models[0].upstreams[0].tls.ca"
        ),
        (
            "models:\n  - name: a\n    maxTokensField: n_predict\n    upstreams: [{url: http://m}]\n", "3:21",
            "models[0].maxTokensField"
        ),
        ("tls:\n  clientCertificates: required\n", "2:3", "tls"),
        (
            "quotas:\n  - name: q\n    selector: all()\n    requestsPerMinute: 0\n", "4:24",
            "quotas[0].requestsPerMinute"
        ),
        ("quotas:\n  - name: q\n    selector: all()\n    budget: {usd: -5}\n", "4:19", "quotas[0].budget.usd"),
        ("quotas:\n  - name: q\n    selector: all()\n    per: team\n", "4:10", "quotas[0].per"),
        ("prices:\n  gpt-4o: {input: 1e3, output: 2}\n", "2:19", "prices.gpt-4o.input"),
        ("guardrails:\n  - name: g\n    prompts: shout\n", "3:14", "guardrails[0].prompts"),
    ])
    func invalidFilesNameTheLineAndField(text: String, position: String, field: String) throws {
        do {
            _ = try GatewayConfiguration.decode(text: text, file: "gatehouse.yaml", environment: [:])
            Issue.record("accepted: \(text)")
        } catch {
            let first = try #require(error.errors.first)
            #expect(first.description.contains("gatehouse.yaml:\(position.split(separator: ":")[0])"), "\(first)")
            #expect(first.field == field, "\(first)")
        }
    }

    @Test func theDocumentedExampleIsValid() throws {
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let file = root.appending(path: "examples/gateway/gatehouse.yaml").path
        let configuration = try GatewayConfiguration.load(file: file, environment: ["OPENAI_API_KEY": "sk-example"])
        #expect(configuration.models.map(\.name) == ["llama-3.1-8b", "gpt-4o"])
        let checked = configuration.models[0].upstreams[1].tls
        #expect(checked.serverName == "vllm-b.ai.svc")
        #expect(checked.subjectAltNames == [.uri("spiffe://cluster.local/ns/ai/sa/vllm")])
        #expect(configuration.limits.handshakeTimeout == .seconds(10))
        #expect(configuration.limits.budgetWait == .seconds(5))
        #expect(configuration.access.policies.count == 3)
        let contractor = AccessSubject(name: "c", labels: ["employment": "contractor", "team": "research"])
        let models = configuration.models.map { AccessSubject(name: $0.name, labels: $0.labels) }
        let access = ModelAccess(policies: configuration.access, models: models)
        #expect(access.evaluate(caller: contractor, model: 1).verdict == .deny)
        let researcher = AccessSubject(name: "r", labels: ["team": "research"])
        #expect(access.evaluate(caller: researcher, model: 1).verdict == .allow)
        #expect(configuration.quotas.map(\.name) == ["research", "every-caller"])
        #expect(configuration.quotas[0].budget == Cost(dollars: "500"))
        #expect(configuration.quotas[0].caps.maxBodyBytes == 1 << 20)
        #expect(configuration.quotas[1].per == .identity)
        #expect(configuration.price(of: configuration.models[0]).input == Cost(dollars: "0.05"))
        // gpt-4o has no price of its own: the built-in list price applies.
        #expect(configuration.price(of: configuration.models[1]).output == Cost(dollars: "10"))
        #expect(configuration.guardrails.first?.prompts == .block)
        #expect(configuration.guardrails.first?.answers == .redact)
        let findings = configuration.guardrails.first?.scanner.scan("ask bluebird about TICKET-123456") ?? []
        #expect(findings.map(\.rule.name) == ["codenames", "ticket-id"])
    }

    @Test func credentialsComeFromTheEnvironmentOrAFileAndAreNeverPrinted() throws {
        let text =
            "models:\n  - name: a\n    upstreams: [{url: https://api.example/v1base, credentialEnv: UPSTREAM_KEY}]\n"
        let configuration = try GatewayConfiguration.decode(
            text: text,
            file: "g.yaml",
            environment: ["UPSTREAM_KEY": "sk-canary-91"]
        )
        let upstream = try #require(configuration.models.first?.upstreams.first)
        #expect(upstream.credential?.revealed == "sk-canary-91")
        #expect(!"\(upstream)".contains("canary") && !"\(configuration)".contains("canary"))
        #expect(upstream.origin == "https://api.example:443/v1base")
        #expect(throws: ResourceErrors.self) {
            try GatewayConfiguration.decode(text: text, file: "g.yaml", environment: [:])
        }
    }

    @Test func withoutAnEnvironmentOnlyTheStructureIsRead() throws {
        // What `gatehouse blueprint --gateway-config` reads, away from the pod's secrets and files.
        let text = """
            store: {url: "postgres://gatehouse@db:5432/gatehouse", passwordFile: /run/secrets/missing}
            metrics: {tokenFile: /run/secrets/missing-token}
            models:
              - name: a
                upstreams:
                - {url: "https://api.example/v1", credentialEnv: UNSET_KEY}
                - {url: "https://b.example", credentialFile: /run/secrets/missing, tls: {ca: /etc/missing-ca.pem}}
            """
        let configuration = try GatewayConfiguration.decode(text: text, file: "g.yaml", environment: nil)
        let upstreams = try #require(configuration.models.first?.upstreams)
        #expect(upstreams.map(\.host) == ["api.example", "b.example"])
        #expect(upstreams.allSatisfy { $0.credential == nil } && upstreams[1].tls.caFile == "/etc/missing-ca.pem")
        // The structure is still checked, and every file is read when an environment is given.
        #expect(throws: ResourceErrors.self) {
            try GatewayConfiguration.decode(text: text + "\n    unknown: 1\n", file: "g.yaml", environment: nil)
        }
        #expect(throws: ResourceErrors.self) {
            try GatewayConfiguration.decode(text: text, file: "g.yaml", environment: ["UNSET_KEY": "sk-1"])
        }
    }

    /// A gateway of its own in front of `fixture` (the harness's would stop it for the test), on loopback
    /// without TLS, with a key made before the start so the gateway loads it at once; `body` is given its
    /// service group (to run and to shut down), the gateway, the key and its logs.
    static func withStoppableGateway(
        _ fixture: FixtureModel,
        shutdownDelay: Duration = .zero,
        _ body: (ServiceGroup, Gateway, String, LogCapture) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "gatehouse-stop-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var configuration = GatewayConfiguration.embeddedDefaults(models: GatewayHarness.fixtureRoutes(fixture))
        configuration.listen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.adminListen = ListenAddress(host: "127.0.0.1", port: 0)
        configuration.tls.enabled = false
        configuration.limits.shutdownDelay = shutdownDelay
        let logs = LogCapture()
        let key = try GatehouseStoreAccess.key(in: directory)
        let gateway = try await Gateway.start(
            configuration: configuration,
            dataDirectory: directory,
            logger: logs.logger
        )
        let group = ServiceGroup(services: gateway.services, gracefulShutdownSignals: [], logger: logs.logger)
        try await body(group, gateway, key, logs)
    }

    @Test func shutdownLetsStreamsInFlightFinish() async throws {
        let fixture = try await FixtureModel.start(configuration: .init(eventInterval: .milliseconds(50)))
        try await Self.withStoppableGateway(fixture) { group, gateway, key, _ in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                let port = gateway.server.dataAddress.port ?? 0
                let response = try await client.execute(
                    HTTPClientRequestFactory.post(
                        "http://127.0.0.1:\(port)/v1/chat/completions",
                        key: key,
                        json: GatewayHarness.chat(stream: true)
                    ),
                    timeout: .seconds(10)
                )
                await group.triggerGracefulShutdown()
                var text = ""
                for try await chunk in response.body { text += String(buffer: chunk) }
                #expect(text.hasSuffix("data: [DONE]\n\n"))
                try await tasks.next()
                // Nothing listens any more.
                await #expect(throws: (any Error).self) {
                    _ = try await client.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/models"),
                        timeout: .seconds(2)
                    )
                }
                try await client.shutdown()
            }
        }
        try await fixture.stop()
    }

    /// With a shutdown delay, a stopping gateway fails readiness at once and still serves new connections
    /// (each answer closing its connection) until the delay is over; then nothing listens.
    @Test func aShutdownDelayKeepsAcceptingWhileNotReady() async throws {
        let fixture = try await FixtureModel.start()
        try await Self.withStoppableGateway(fixture, shutdownDelay: .seconds(2)) {
            group,
            gateway,
            key,
            logs in
            let data = "http://127.0.0.1:\(gateway.server.dataAddress.port ?? 0)"
            let ready = "http://127.0.0.1:\(gateway.server.adminAddress.port ?? 0)/readyz"
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let client = HTTPClient(eventLoopGroupProvider: .singleton)
                #expect(try await client.execute(HTTPClientRequest(url: ready), timeout: .seconds(10)).status == .ok)
                await group.triggerGracefulShutdown()
                for _ in 0..<50 where !logs.text.contains("stopping: not ready, still accepting") {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let notReady = try await client.execute(HTTPClientRequest(url: ready), timeout: .seconds(10))
                #expect(notReady.status == .serviceUnavailable)
                #expect(String(buffer: try await notReady.body.collect(upTo: 1 << 10)) == #"{"status":"draining"}"#)
                let served = try await client.execute(
                    HTTPClientRequestFactory.post("\(data)/v1/chat/completions", key: key, json: GatewayHarness.chat()),
                    timeout: .seconds(10)
                )
                #expect(served.status == .ok && served.headers["connection"] == ["close"])
                try await tasks.next()
                await #expect(throws: (any Error).self) {
                    _ = try await client.execute(HTTPClientRequest(url: "\(data)/v1/models"), timeout: .seconds(2))
                }
                try await client.shutdown()
            }
        }
        try await fixture.stop()
    }
}
