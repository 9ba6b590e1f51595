import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import GatehousePolicy
import Logging
import ServiceLifecycle
import UnixSignals

/// `gatehouse serve`: the front door. Works with no configuration at all (TLS with a self-signed
/// certificate, API keys, a data directory made on first start); `--config gatehouse.yaml` for the rest.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway in front of OpenAI-compatible model servers."
    )

    @Option(name: [.customShort("c"), .long], help: "A gatehouse.yaml; reloaded on SIGHUP and when it changes.")
    var config: String?

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "host:port of the data plane (default 127.0.0.1:8443).")
    var listen: String?

    @Option(name: .customLong("admin-listen"), help: "host:port of the admin API (default 127.0.0.1:8444).")
    var adminListen: String?

    @Flag(inversion: .prefixedNo, help: "TLS on the data plane and admin listeners (default on).")
    var tls: Bool?

    @Option(
        help:
            "An upstream model server URL for the models given with --model (or all it lists), or 'fixture' for the built-in fixture model."
    )
    var upstream: String?

    @Option(name: .customLong("model"), help: "A model name served by --upstream (repeatable).")
    var models: [String] = []

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    func validate() throws {
        if let listen, ListenAddress(parsing: listen) == nil { throw ValidationError("--listen: expected host:port") }
        if let adminListen, ListenAddress(parsing: adminListen) == nil {
            throw ValidationError("--admin-listen: expected host:port")
        }
        if let upstream, upstream != "fixture", UpstreamSettings(url: upstream) == nil {
            throw ValidationError("--upstream: expected an http:// or https:// URL, or 'fixture'")
        }
        if !models.isEmpty && upstream == nil { throw ValidationError("--model needs --upstream") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level: unknown level") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in LogLineHandler(label: label, level: level) }
        let logger = Logger(label: "gatehouse")
        var services: [any ServiceLifecycle.Service] = []
        var routes: [ModelRoute] = []
        if upstream == "fixture" {
            let fixture = try await FixtureModel.start()
            services.append(fixture)
            routes = FixtureModel.Configuration().models.map { name in
                ModelRoute(
                    name: name,
                    labels: [
                        "gatehouse.io/fixture": "true", "size": name.replacingOccurrences(of: "fixture-", with: ""),
                    ],
                    upstreams: [UpstreamSettings(url: fixture.baseURL)!]
                )
            }
            Console.line(
                "fixture model (not a real model) at \(fixture.baseURL): \(routes.map(\.name).joined(separator: ", "))"
            )
        } else if let upstream, let settings = UpstreamSettings(url: upstream) {
            var names = models
            if names.isEmpty { names = try await ModelDiscovery.models(at: settings) }
            routes = names.map { ModelRoute(name: $0, upstreams: [settings]) }
        }
        let overrides = overrideClosure(routes: routes)
        var configuration: GatewayConfiguration
        if let config {
            do {
                configuration = try GatewayConfiguration.load(file: config)
            } catch {
                for problem in error.errors { Console.error(problem.description) }
                throw ExitCode(2)
            }
        } else {
            configuration = .embeddedDefaults(models: [])
        }
        overrides(&configuration)
        let gateway = try await Gateway.start(
            configuration: configuration,
            dataDirectory: data.url,
            store: try data.location(configured: configuration.store),
            overrides: overrides,
            logger: logger
        )
        announce(gateway, configuration: configuration)
        let group = ServiceGroup(
            services: gateway.services + services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        defer { LogLineHandler.flush() }
        try await group.run()
    }

    /// Command-line flags win over the file, on start and on every reload.
    private func overrideClosure(routes: [ModelRoute]) -> @Sendable (inout GatewayConfiguration) -> Void {
        let listen = listen.flatMap(ListenAddress.init(parsing:))
        let adminListen = adminListen.flatMap(ListenAddress.init(parsing:))
        let tls = tls
        return { configuration in
            if let listen { configuration.listen = listen }
            if let adminListen { configuration.adminListen = adminListen }
            if let tls { configuration.tls.enabled = tls }
            for route in routes where configuration.route(named: route.name) == nil {
                configuration.models.append(route)
            }
        }
    }

    private func announce(_ gateway: Gateway, configuration: GatewayConfiguration) {
        let scheme = configuration.tls.enabled ? "https" : "http"
        Console.line(
            "gatehouse serve: data plane \(scheme)://\(gateway.server.dataAddress.readable), admin API \(scheme)://\(gateway.server.adminAddress.readable)"
        )
        if let fingerprint = gateway.tlsFingerprint {
            let origin = gateway.generatedCertificate ? "new self-signed" : "certificate"
            Console.line("TLS \(origin) certificate, SHA-256 fingerprint \(fingerprint)")
        }
        Console.line(
            "models: \(configuration.models.isEmpty ? "none (give --upstream or models: in --config)" : configuration.models.map(\.name).joined(separator: ", "))"
        )
        if configuration.file == nil {
            Console.line(
                "configuration: embedded defaults (every authenticated caller may use every model; write a gatehouse.yaml to narrow it)"
            )
        }
        if let key = gateway.newAdminKey {
            Console.line("admin key (shown once, stored only as a hash): \(key)")
        }
    }
}
