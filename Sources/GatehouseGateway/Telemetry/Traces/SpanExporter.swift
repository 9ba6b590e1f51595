import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// Sends finished spans to the OTLP endpoint in force (`telemetry.otlp`), as OTLP/HTTP protobuf, a
/// batch at a time: every second, and once more at shutdown, after the server has drained.
///
/// The queue is bounded: while the collector is slow or away, new spans are dropped and counted in
/// the log; no request ever waits for its spans. A batch the collector refuses is not sent again.
final class SpanExporter: Service, Sendable {
    static let batchSize = 512
    static let queueLimit = 8_192
    static let interval = Duration.seconds(1)

    private struct Queue {
        var spans: [OTLPSpan] = []
        var dropped = 0
    }

    private let queue = Mutex(Queue())
    private let state: GatewayState
    private let group: any EventLoopGroup
    private let version: String
    private let logger: Logger

    init(state: GatewayState, group: any EventLoopGroup, version: String, logger: Logger) {
        self.state = state
        self.group = group
        self.version = version
        self.logger = logger
    }

    /// Queues one request's spans, or counts them dropped when the queue is full.
    func enqueue(_ spans: [OTLPSpan]) {
        queue.withLock { queue in
            if queue.spans.count + spans.count <= Self.queueLimit {
                queue.spans += spans
            } else {
                queue.dropped += spans.count
            }
        }
    }

    /// The exporter's own client, made here and shut down after the last flush: the other clients close
    /// with the server, before this service's turn to stop comes.
    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(10))
        configuration.redirectConfiguration = .disallow
        let client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: Self.interval)
                await self.flush(over: client)
            }
        }
        await flush(over: client)
        try? await client.shutdown()
    }

    /// Sends everything queued now, a batch per request.
    private func flush(over client: HTTPClient) async {
        while true {
            let (batch, dropped) = queue.withLock { queue in
                let batch = Array(queue.spans.prefix(Self.batchSize))
                queue.spans.removeFirst(batch.count)
                defer { queue.dropped = 0 }
                return (batch, queue.dropped)
            }
            if dropped > 0 {
                logger.warning("spans dropped: the export queue was full", metadata: ["gatehouse.spans": "\(dropped)"])
            }
            guard !batch.isEmpty else { return }
            // Spans of a configuration that no longer exports are let go.
            guard let settings = state.runtime.configuration.traces else { continue }
            await send(batch, to: settings, over: client)
        }
    }

    private func send(_ batch: [OTLPSpan], to settings: TraceSettings, over client: HTTPClient) async {
        var request = HTTPClientRequest(url: settings.endpoint)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-protobuf")
        request.headers.add(name: "user-agent", value: "gatehouse/\(version)")
        let body = OTLPTraceEncoder.request(spans: batch, serviceName: settings.serviceName, version: version)
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            // The answer is read (and its connection kept) but not needed: a partial success is still one.
            _ = try await response.body.collect(upTo: 1 << 20)
            guard (200..<300).contains(response.status.code) else {
                logger.warning(
                    "spans refused by the OTLP endpoint",
                    metadata: ["gatehouse.status": "\(response.status.code)", "gatehouse.spans": "\(batch.count)"]
                )
                return
            }
        } catch {
            logger.warning(
                "spans not exported",
                metadata: ["gatehouse.error": "\(error)", "gatehouse.spans": "\(batch.count)"]
            )
        }
    }
}
