import Foundation
import GatehouseFlows
import GatehouseStore
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// The listening part of `gatehouse serve`: the data plane and the admin listener. `start` binds
/// both (so callers learn the ports); `run` serves until graceful shutdown, then stops accepting,
/// lets requests and streams in flight finish (up to the drain timeout) and closes.
public final class GatewayServer: Service, Sendable {
    public let dataAddress: SocketAddress
    public let adminAddress: SocketAddress
    private let dataChannel: any Channel
    private let adminChannel: any Channel
    private let tracker: ConnectionTracker
    private let state: GatewayState
    private let telemetry: GatewayTelemetry
    private let logger: Logger

    private init(
        dataChannel: any Channel,
        adminChannel: any Channel,
        tracker: ConnectionTracker,
        state: GatewayState,
        telemetry: GatewayTelemetry,
        logger: Logger
    ) {
        self.dataChannel = dataChannel
        self.adminChannel = adminChannel
        self.dataAddress = dataChannel.localAddress!
        self.adminAddress = adminChannel.localAddress!
        self.tracker = tracker
        self.state = state
        self.telemetry = telemetry
        self.logger = logger
    }

    /// Binds the data plane (with TLS when `tls` is given) and the admin listener.
    static func start(
        state: GatewayState,
        keys: KeyDirectory,
        store: Store,
        ledger: SpendLedger,
        telemetry: GatewayTelemetry,
        tls: NIOSSLContext?,
        adminTLS: NIOSSLContext?,
        group: any EventLoopGroup,
        logger: Logger
    ) async throws -> GatewayServer {
        let configuration = state.runtime.configuration
        let tracker = ConnectionTracker()
        let authenticator = Authenticator(keys: keys)
        let dataPlane = DataPlane(
            state: state,
            authenticator: authenticator,
            quotaBook: QuotaBook(
                shared: store.location.directory == nil
                    ? SharedAllowances(store: store, instance: ledger.instance) : nil
            ),
            ledger: ledger,
            telemetry: telemetry,
            executors: EventLoopTaskExecutor.Table(group: group),
            logger: logger
        )
        let adminPlane = AdminPlane(
            state: state,
            authenticator: authenticator,
            store: store,
            keys: keys,
            telemetry: telemetry,
            ledger: ledger,
            tracker: tracker,
            logger: logger
        )
        let dataChannel = try await bind(
            configuration.listen,
            responder: dataPlane,
            tls: tls,
            tracker: tracker,
            group: group
        )
        let adminChannel: any Channel
        do {
            adminChannel = try await bind(
                configuration.adminListen,
                responder: adminPlane,
                tls: adminTLS,
                tracker: tracker,
                group: group
            )
        } catch {
            try? await dataChannel.close()
            throw error
        }
        return GatewayServer(
            dataChannel: dataChannel,
            adminChannel: adminChannel,
            tracker: tracker,
            state: state,
            telemetry: telemetry,
            logger: logger
        )
    }

    private static func bind(
        _ address: ListenAddress,
        responder: any Responder,
        tls: NIOSSLContext?,
        tracker: ConnectionTracker,
        group: any EventLoopGroup
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: false)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    let limits = responder.limits
                    if let tls {
                        try pipeline.addHandler(NIOSSLServerHandler(context: tls))
                        try pipeline.addHandler(TLSHandshakeDeadline(limit: TimeAmount(limits.handshakeTimeout)))
                    }
                    let watcher = ByteArrivalWatcher()
                    try pipeline.addHandler(watcher)
                    var decoderLimits = NIOHTTPDecoderLimitConfiguration()
                    decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
                    decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
                    decoderLimits.maxHeaderFieldCount = 1000
                    // The response writer sets the framing headers: the encoder setting them copied every
                    // head it wrote.
                    var encoder = HTTPResponseEncoder.Configuration()
                    encoder.automaticallySetFramingHeaders = false
                    try pipeline.configureHTTPServerPipeline(
                        // The connection handler queues pipelined requests itself; NIO's assistance
                        // switches read interest off and on for every request (two epoll_ctl calls).
                        withPipeliningAssistance: false,
                        withServerUpgrade: nil,
                        // Parse errors are answered by the connection handler, after responses in flight.
                        withErrorHandling: false,
                        // Response headers are the upstream's (checked by the client-side parser) and our own.
                        withOutboundHeaderValidation: false,
                        withEncoderConfiguration: encoder,
                        withDecoderLimitConfiguration: decoderLimits
                    )
                    try pipeline.addHandler(ConnectionHandler(responder: responder, watcher: watcher, tracker: tracker))
                }
            }
            .bind(host: address.host, port: address.port)
            .get()
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Fails readiness and goes on accepting for the shutdown delay (while a Service's endpoints stop
    /// naming this replica), then stops accepting, drains, closes.
    public func shutdown() async {
        let delay = state.runtime.configuration.limits.shutdownDelay
        if delay > .zero {
            tracker.stop()
            logger.info("stopping: not ready, still accepting", metadata: ["gatehouse.shutdown_delay": "\(delay)"])
            try? await Task.sleep(for: delay)
        }
        try? await dataChannel.close()
        try? await adminChannel.close()
        // Live flow streams end now; requests in flight are drained below.
        telemetry.flows.hub.finish()
        tracker.drain()
        let drainTimeout = state.runtime.configuration.limits.drainTimeout
        let deadline = ContinuousClock.now + drainTimeout
        if tracker.busyCount > 0 {
            logger.info("draining", metadata: ["gatehouse.in_flight": "\(tracker.busyCount)"])
        }
        while tracker.busyCount > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        tracker.closeAll()
        await state.registry.shutdown()
        logger.info("stopped")
    }
}
