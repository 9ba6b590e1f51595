import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOPosix
import Testing

@testable import GatehouseGateway

/// The connection's deadlines, driven by a manual clock: `ConnectionDeadlines` alone, and the
/// connection handler in an `EmbeddedChannel` whose event loop's time only moves when told to.
@Suite struct ConnectionDeadlineTests {
    static let limits = {
        var limits = RequestLimits()
        limits.headerTimeout = .seconds(10)
        limits.idleTimeout = .seconds(60)
        limits.bodyRateWindow = .seconds(5)
        limits.minBodyBytesPerSecond = 100
        return limits
    }()

    static func at(_ seconds: Int64) -> NIODeadline { .uptimeNanoseconds(UInt64(seconds) * 1_000_000_000) }

    // MARK: The state machine

    @Test func anIdleConnectionIsClosedAtItsDeadlineAndABusyOneIsNot() {
        var deadlines = ConnectionDeadlines(limits: Self.limits, now: Self.at(0))
        #expect(deadlines.awaitRequest(limits: Self.limits, now: Self.at(0)) == .arm(.idle, at: Self.at(60)))
        // A request at 30 s and its answer at 40 s: the timer fires at 60 s and asks for the rest.
        #expect(deadlines.readComplete(now: Self.at(30)) == .none)
        #expect(deadlines.busy() == .none)
        #expect(deadlines.awaitRequest(limits: Self.limits, now: Self.at(40)) == .none, "one idle timer at a time")
        #expect(deadlines.fired(.idle, now: Self.at(60)) == .arm(.idle, at: Self.at(100)))
        #expect(deadlines.fired(.idle, now: Self.at(100)) == .close)
        // Busy when the timer fires: nothing now, and the next wait arms a new one.
        var busy = ConnectionDeadlines(limits: Self.limits, now: Self.at(0))
        _ = busy.awaitRequest(limits: Self.limits, now: Self.at(0))
        _ = busy.busy()
        #expect(busy.fired(.idle, now: Self.at(60)) == .none)
        #expect(busy.awaitRequest(limits: Self.limits, now: Self.at(70)) == .arm(.idle, at: Self.at(130)))
    }

    @Test func theHeaderDeadlineRunsFromTheFirstByteAndOnlyOnceABurstEndsUnfinished() {
        var deadlines = ConnectionDeadlines(limits: Self.limits, now: Self.at(0))
        _ = deadlines.awaitRequest(limits: Self.limits, now: Self.at(0))
        deadlines.bytesArrived(now: Self.at(20))
        deadlines.bytesArrived(now: Self.at(25))
        #expect(deadlines.readComplete(now: Self.at(26)) == .arm(.header, at: Self.at(30)))
        #expect(deadlines.readComplete(now: Self.at(27)) == .none, "already armed")
        // The idle timer does not close a connection whose request has begun.
        #expect(deadlines.fired(.idle, now: Self.at(60)) == .none)
        #expect(deadlines.fired(.header, now: Self.at(30)) == .headerTimedOut)
        // A head in time cancels it.
        var quick = ConnectionDeadlines(limits: Self.limits, now: Self.at(0))
        _ = quick.awaitRequest(limits: Self.limits, now: Self.at(0))
        quick.bytesArrived(now: Self.at(1))
        _ = quick.readComplete(now: Self.at(1))
        #expect(quick.busy() == .cancelPhaseTimer)
        #expect(quick.fired(.header, now: Self.at(11)) == .none, "a timer cancelled too late does nothing")
    }

    @Test func aBodyBelowTheMinimumRateForAWindowIsRefused() {
        var deadlines = ConnectionDeadlines(limits: Self.limits, now: Self.at(0))
        _ = deadlines.awaitRequest(limits: Self.limits, now: Self.at(0))
        deadlines.bytesArrived(now: Self.at(0))
        #expect(deadlines.busy() == .none)
        #expect(deadlines.headAdmitted() == .none)
        #expect(deadlines.readComplete(now: Self.at(1)) == .arm(.bodyRate, at: Self.at(6)))
        // 500 bytes in the window is the floor (100 bytes/s for 5 s): enough, and the count starts again.
        deadlines.bodyArrived(bytes: 500)
        #expect(deadlines.fired(.bodyRate, now: Self.at(6)) == .arm(.bodyRate, at: Self.at(11)))
        deadlines.bodyArrived(bytes: 499)
        #expect(deadlines.fired(.bodyRate, now: Self.at(11)) == .bodyTooSlow)
        #expect(deadlines.readComplete(now: Self.at(12)) == .none, "refused: no deadline until the next request")
    }

    @Test func newLimitsApplyFromTheNextRequest() {
        var deadlines = ConnectionDeadlines(limits: Self.limits, now: Self.at(0))
        _ = deadlines.awaitRequest(limits: Self.limits, now: Self.at(0))
        var shorter = Self.limits
        shorter.headerTimeout = .seconds(2)
        _ = deadlines.busy()
        _ = deadlines.awaitRequest(limits: shorter, now: Self.at(5))
        deadlines.bytesArrived(now: Self.at(6))
        #expect(deadlines.readComplete(now: Self.at(6)) == .arm(.header, at: Self.at(8)))
    }

    @Test func aZeroBodyRateWindowIsRefusedInTheConfiguration() throws {
        #expect(throws: (any Error).self) {
            try GatewayConfiguration.decode(text: "limits:\n  bodyRateWindow: 0s\n", file: "g.yaml")
        }
        do {
            _ = try GatewayConfiguration.decode(text: "limits:\n  bodyRateWindow: 0s\n", file: "g.yaml")
        } catch {
            #expect("\(error)".contains("g.yaml:2"), "\(error)")
            #expect("\(error)".contains("above zero"), "\(error)")
        }
        let configuration = try GatewayConfiguration.decode(text: "limits:\n  bodyRateWindow: 500ms\n", file: "g.yaml")
        #expect(configuration.limits.bodyRateWindow == .milliseconds(500))
    }

    // MARK: The handler, in an EmbeddedChannel

    /// Admits every head and answers 200 with an empty JSON object once the body is in.
    final class Answering: Responder, Sendable {
        let limits: RequestLimits
        let runtime: GatewayRuntime

        init(limits: RequestLimits, runtime: GatewayRuntime) {
            self.limits = limits
            self.runtime = runtime
        }

        func admit(
            head: HTTPRequestHead,
            requestID: String,
            connection: inout ConnectionFacts
        ) -> Result<AdmittedRequest, GatewayError> {
            .success(
                AdmittedRequest(
                    head: head,
                    path: head.uri,
                    requestID: requestID,
                    authentication: .rejected,
                    runtime: runtime,
                    started: .now
                )
            )
        }

        func respond(
            to request: AdmittedRequest,
            body: ByteBuffer,
            writer: ResponseWriter,
            cancellation: RequestCancellation
        ) {
            writer.writeJSON(status: .ok, "{}")
        }
    }

    /// A connection as the server builds it, on an embedded loop at time zero.
    static func withConnection(_ body: (EmbeddedChannel) throws -> Void) async throws {
        let registry = UpstreamRegistry(group: MultiThreadedEventLoopGroup.singleton)
        let runtime = try GatewayRuntime(configuration: GatewayConfiguration(), registry: registry, previous: nil)
        let channel = EmbeddedChannel()
        let watcher = ByteArrivalWatcher()
        var encoder = HTTPResponseEncoder.Configuration()
        encoder.automaticallySetFramingHeaders = false
        try channel.pipeline.syncOperations.addHandler(watcher)
        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withPipeliningAssistance: false,
            withServerUpgrade: nil,
            withErrorHandling: false,
            withOutboundHeaderValidation: false,
            withEncoderConfiguration: encoder
        )
        try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                responder: Answering(limits: limits, runtime: runtime),
                watcher: watcher,
                tracker: ConnectionTracker()
            )
        )
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
        do {
            try body(channel)
        } catch {
            await registry.shutdown()
            throw error
        }
        await registry.shutdown()
    }

    static func send(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(channel.allocator.buffer(string: text))
        channel.pipeline.fireChannelReadComplete()
    }

    static func written(by channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
            text += buffer.readString(length: buffer.readableBytes) ?? ""
        }
        return text
    }

    @Test func anIdleConnectionIsClosedWithoutAnAnswer() async throws {
        try await Self.withConnection { channel in
            channel.embeddedEventLoop.advanceTime(by: .seconds(59))
            #expect(channel.isActive)
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            #expect(!channel.isActive)
            let written = try Self.written(by: channel)
            #expect(written.isEmpty)
        }
    }

    @Test func headersThatTrickleInAreAnswered408AtTheirDeadline() async throws {
        try await Self.withConnection { channel in
            channel.embeddedEventLoop.advanceTime(by: .seconds(30))
            try Self.send("GET /v1/models HTTP/1.1\r\n", to: channel)
            for index in 0..<9 {
                channel.embeddedEventLoop.advanceTime(by: .seconds(1))
                try Self.send("X-Slow-\(index): v\r\n", to: channel)
            }
            let nothing = try Self.written(by: channel)
            #expect(channel.isActive && nothing.isEmpty)
            // Ten seconds after the first byte, not after the last.
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            let answer = try Self.written(by: channel)
            #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer)")
            #expect(answer.contains("\"code\":\"request_timeout\""))
            // Closed after the answer's linger (`closeAfterAnswer`).
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            #expect(!channel.isActive)
        }
    }

    @Test func aBodyBelowTheMinimumRateIsAnswered408() async throws {
        try await Self.withConnection { channel in
            try Self.send("POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n", to: channel)
            // 600 bytes in the first window (floor 500), then 100 in the second.
            try Self.send(String(repeating: "x", count: 600), to: channel)
            channel.embeddedEventLoop.advanceTime(by: .seconds(5))
            #expect(channel.isActive)
            try Self.send(String(repeating: "x", count: 100), to: channel)
            channel.embeddedEventLoop.advanceTime(by: .seconds(5))
            let answer = try Self.written(by: channel)
            #expect(answer.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"), "\(answer)")
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            #expect(!channel.isActive, "the unread body makes the refusal close the connection")
        }
    }

    @Test func aRequestThatArrivesInOneBurstIsAnsweredAndTheConnectionWaitsAgain() async throws {
        try await Self.withConnection { channel in
            channel.embeddedEventLoop.advanceTime(by: .seconds(30))
            try Self.send("POST /v1/chat/completions HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}", to: channel)
            channel.embeddedEventLoop.run()
            let answer = try Self.written(by: channel)
            #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(answer)")
            // The idle timeout counts from the answer (at 30 s), not from the connection's start.
            channel.embeddedEventLoop.advanceTime(by: .seconds(59))
            #expect(channel.isActive)
            channel.embeddedEventLoop.advanceTime(by: .seconds(1))
            #expect(!channel.isActive)
        }
    }
}
