import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// A fixture model server for tours, tests and load tests — not a model. It speaks enough of the
/// OpenAI HTTP API (models, chat, completions, embeddings; streaming or not; usage or not) to stand
/// in for a model server behind the gateway, and answers every prompt with the same sentence.
public final class FixtureModel: Service, Sendable {
    public struct Configuration: Sendable {
        /// The model names served.
        public var models: [String]
        /// The length of each embedding vector.
        public var embeddingDimensions: Int
        /// The pause between streamed events (zero: all at once).
        public var eventInterval: Duration
        /// When set, every model request is answered with this status (for failover tests).
        public var failureStatus: Int?
        /// How answers report token usage (fault tests: none at all, or absurdly high).
        public var usage: UsageReport = .reported
        /// When set, a streamed answer stops after this many events and the connection is closed (an
        /// upstream reset mid-answer).
        public var cutStreamAfterEvents: Int?
        /// When set, a stream sent all at once carries a `content-length`, as from a server that buffers
        /// its streams, instead of coming in chunks.
        public var lengthOnStreams = false
        /// When set, answers run to their full length whatever `max_tokens` says: an upstream that does
        /// not keep to the bound it was sent.
        public var ignoresMaxTokens = false

        public enum UsageReport: Sendable {
            /// As OpenAI does: in every answer, and in a last stream event when `include_usage` asks.
            case reported
            /// Never, as llama.cpp's server with `include_usage`.
            case omitted
            /// Ten million tokens each way: a wrong report.
            case inflated
        }

        public init(
            models: [String] = ["fixture-small", "fixture-large", "fixture-embedding"],
            embeddingDimensions: Int = 8,
            eventInterval: Duration = .zero,
            failureStatus: Int? = nil
        ) {
            self.models = models
            self.embeddingDimensions = embeddingDimensions
            self.eventInterval = eventInterval
            self.failureStatus = failureStatus
        }
    }

    /// The address the fixture listens on.
    public let address: SocketAddress
    /// What the fixture has seen, for tests.
    public let counters: FixtureCounters
    private let channel: any Channel

    private let tls: Bool

    private init(channel: any Channel, counters: FixtureCounters, tls: Bool) {
        self.channel = channel
        self.counters = counters
        self.tls = tls
        self.address = channel.localAddress!
    }

    /// The port the fixture listens on.
    public var port: Int { address.port ?? 0 }

    /// `http://host:port` (`https://` when it serves TLS), the base URL to point an upstream at.
    public var baseURL: String { "\(tls ? "https" : "http")://\(address.ipAddress ?? "127.0.0.1"):\(port)" }

    /// Binds the fixture on `host:port` (port 0: any free port) and starts answering, over TLS with
    /// `tls` when given (tests of the gateway's checks of its upstreams).
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        configuration: Configuration = Configuration(),
        tls: NIOSSLContext? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> FixtureModel {
        let counters = FixtureCounters()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        FixtureHandler(configuration: configuration, counters: counters)
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
        return FixtureModel(channel: channel, counters: counters, tls: tls != nil)
    }

    /// Serves until graceful shutdown, then stops listening.
    public func run() async throws {
        try? await gracefulShutdown()
        try await stop()
    }

    /// Stops listening; open connections finish their current answer.
    public func stop() async throws {
        try await channel.close().get()
    }
}
