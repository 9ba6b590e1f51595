import Foundation
import GatehouseFlows
import GatehouseStore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// `gatehouse serve` assembled: the store, keys, TLS material, configuration in force, the listeners
/// and the background services, ready to run under one `ServiceGroup`.
public final class Gateway: Sendable {
    /// The release, as `gatehouse --version` and the spans' `service.version` give it.
    public static let version = "0.1.0"

    public let server: GatewayServer
    /// Every long-lived part, the server last so it drains after the others stop polling.
    public let services: [any Service]
    /// The fingerprint of the data plane's certificate, when TLS is on.
    public let tlsFingerprint: String?
    /// Whether this start made the self-signed certificate.
    public let generatedCertificate: Bool
    /// The admin key made on first start (shown once), or nil.
    public let newAdminKey: String?
    let state: GatewayState
    let reloader: ConfigurationReloader?

    private init(
        server: GatewayServer,
        services: [any Service],
        tlsFingerprint: String?,
        generatedCertificate: Bool,
        newAdminKey: String?,
        state: GatewayState,
        reloader: ConfigurationReloader?
    ) {
        self.server = server
        self.services = services
        self.tlsFingerprint = tlsFingerprint
        self.generatedCertificate = generatedCertificate
        self.newAdminKey = newAdminKey
        self.state = state
        self.reloader = reloader
    }

    /// Opens the store and binds the listeners.
    ///
    /// - Parameters:
    ///   - dataDirectory: the self-signed certificate's home, and the store's unless `store` says otherwise.
    ///   - store: where the store is (the embedded one in `dataDirectory` when nil).
    ///   - overrides: applied to the configuration on every reload too (command-line flags win over the file).
    public static func start(
        configuration: GatewayConfiguration,
        dataDirectory: URL,
        store location: StoreLocation? = nil,
        overrides: @escaping @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) async throws -> Gateway {
        let store = try Store(location: location ?? .sqlite(directory: dataDirectory), backgroundCheckpoints: true)
        let keys = KeyDirectory()
        try keys.reload(from: store)
        var newAdminKey: String?
        if !keys.hasAdminKey {
            newAdminKey = try makeAdminKey(in: store)
            try keys.reload(from: store)
        }
        var tlsFingerprint: String?
        var generated = false
        var dataTLS: NIOSSLContext?
        var adminTLS: NIOSSLContext?
        if configuration.tls.enabled {
            let material = try TLSMaterial.prepare(settings: configuration.tls, dataDirectory: dataDirectory)
            tlsFingerprint = material.fingerprint
            generated = material.generated
            dataTLS = try material.serverContext(settings: configuration.tls)
            adminTLS = try material.serverContext(settings: TLSSettings())
        }
        let registry = UpstreamRegistry(group: group)
        let state: GatewayState
        let ledger: SpendLedger
        do {
            state = try GatewayState(configuration: configuration, registry: registry)
            ledger = try SpendLedger(store: store, instance: try GatewayInstance(store: store), logger: logger) {
                state.runtime.configuration.limits.budgetWait
            }
            try ledger.settleAbandoned()
        } catch {
            await registry.shutdown()
            throw error
        }
        let recorder = FlowRecorder(
            store: store,
            bucket: configuration.flows.bucket,
            retention: configuration.flows.retention,
            logger: logger
        )
        let spans = SpanExporter(state: state, group: group, version: version, logger: logger)
        let telemetry = GatewayTelemetry(flows: recorder, spans: spans, state: state)
        let server = try await GatewayServer.start(
            state: state,
            keys: keys,
            store: store,
            ledger: ledger,
            telemetry: telemetry,
            tls: dataTLS,
            adminTLS: adminTLS,
            group: group,
            logger: logger
        )
        var services: [any Service] = [
            ledger,
            spans,
            FlowRecording(recorder: recorder),
            KeyDirectoryRefresher(directory: keys, store: store, logger: logger),
            HealthChecker(state: state, eventLoop: group.next(), logger: logger),
        ]
        var reloader: ConfigurationReloader?
        if let file = configuration.file {
            let made = ConfigurationReloader(file: file, state: state, overrides: overrides, logger: logger)
            services.append(made)
            reloader = made
        }
        services.append(server)
        return Gateway(
            server: server,
            services: services,
            tlsFingerprint: tlsFingerprint,
            generatedCertificate: generated,
            newAdminKey: newAdminKey,
            state: state,
            reloader: reloader
        )
    }

    /// Makes the first admin key; nil when another replica sharing the store made it first (and showed it).
    private static func makeAdminKey(in store: Store) throws(StoreError) -> String? {
        do {
            return try store.createKey(kind: .admin, name: "admin", labels: [:], expiresAt: nil).secret.text
        } catch  where error.code == .conflict {
            return nil
        }
    }

    /// Re-reads the configuration file now, as SIGHUP does; false when it was refused.
    @discardableResult
    public func reloadConfiguration() -> Bool {
        reloader?.reload(reason: "requested") ?? false
    }
}
