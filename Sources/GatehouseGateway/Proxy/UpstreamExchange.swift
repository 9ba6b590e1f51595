import GatehouseCore
import NIOCore
import NIOHTTP1

/// An upstream's answer whose head has arrived: the caller relays it to the client or discards it
/// (to try another upstream).
struct UpstreamExchange: Sendable {
    struct Relayed: Sendable {
        let bytes: Int
        /// False when either side broke off before the end. A complete answer's end is not written: the
        /// caller writes it once the request is accounted for.
        let complete: Bool
        let usage: TokenUsage
        let firstPiece: ContinuousClock.Instant?
        /// Guardrail findings in the answer.
        let findings: [GuardrailFinding]
        /// The upstream produced more than the output bound it was sent (see `AnswerMeter`).
        let overran: Bool
        /// What the answer said of itself, when `Metering.notesAnswerFields` asked.
        let responseModel: String?
        let finishReasons: [String]
    }

    /// How to meter the answer (see `AnswerMeter`).
    struct Metering: Sendable {
        let stream: Bool
        let dropUsageOnlyEvents: Bool
        /// Guardrail policies for the answer (empty: none).
        let guardrails: [GuardrailPolicy]
        /// The most output tokens the upstream was told to produce, all choices together (nil: none).
        let outputBound: Int?
        /// Whether to note the answer's model and finish reasons (a sampled trace wants them).
        var notesAnswerFields = false
    }

    let head: HTTPResponseHead
    private let channel: any Channel
    private let handler: NIOLoopBound<UpstreamConnectionHandler>
    private let pool: UpstreamLoopPool

    init(head: HTTPResponseHead, channel: any Channel, handler: UpstreamConnectionHandler, pool: UpstreamLoopPool) {
        self.head = head
        self.channel = channel
        self.handler = NIOLoopBound(handler, eventLoop: pool.eventLoop)
        self.pool = pool
    }

    /// Drops the answer and its connection.
    func discard() {
        channel.close(promise: nil)
    }

    /// The longest start of a declined answer's body kept for the log, and how long it is waited for.
    static let excerptBytes = 512
    static let excerptWait = TimeAmount.milliseconds(500)

    /// Reads the start of a declined answer's body for the log (control bytes replaced), then drops the
    /// connection; call on the pool's event loop. `done` is called once, on that loop.
    func excerpt(done: @escaping (String) -> Void) {
        let sink = ExcerptSink(upstream: channel, done: done)
        let loopBound = NIOLoopBound(sink, eventLoop: pool.eventLoop)
        sink.deadline = pool.eventLoop.scheduleTask(in: Self.excerptWait) { loopBound.value.end(reusable: false) }
        handler.value.attach(sink)
    }

    /// Sends the answer to the client, head with `headers`, then every body part as it arrives;
    /// call on the pool's event loop. Reading from the upstream pauses while the client's connection
    /// is full. `done` is called once, on that loop, when the answer has been relayed or broken off.
    func startRelay(
        headers: HTTPHeaders,
        to writer: ResponseWriter,
        metering: Metering,
        done: @escaping (Relayed) -> Void
    ) {
        let meter = AnswerMeter(
            stream: metering.stream,
            dropUsageOnlyEvents: metering.dropUsageOnlyEvents,
            answerGuard: metering.guardrails.isEmpty ? nil : AnswerGuard(policies: metering.guardrails),
            outputBound: metering.outputBound,
            notesAnswerFields: metering.notesAnswerFields
        )
        var heldHead: (HTTPResponseStatus, HTTPHeaders)?
        if meter.holdsWholeAnswer {
            // Sent last, with the length of the answer as the guardrails leave it.
            heldHead = (head.status, headers)
        } else {
            var headers = headers
            // Events the meter drops or a guardrail changes make the upstream's length wrong.
            if meter.rewritesAnswer { headers.remove(name: "content-length") }
            writer.writeHead(status: head.status, headers: headers)
        }
        let upstream = channel
        let sink = RelaySink(
            writer: writer,
            upstream: upstream,
            release: { [pool, handler] in pool.release(upstream, handler.value) },
            meter: meter,
            heldHead: heldHead,
            done: done
        )
        handler.value.attach(sink)
    }

    /// The connection, for closing it when the client goes away.
    var connection: any Channel { channel }
}

/// Moves body parts from an upstream connection to a client connection on the same event loop.
private final class RelaySink: UpstreamConnectionHandler.Sink {
    private let writer: ResponseWriter
    private let upstream: any Channel
    private let release: () -> Void
    private let done: (UpstreamExchange.Relayed) -> Void
    private let meter: AnswerMeter
    private var heldHead: (HTTPResponseStatus, HTTPHeaders)?
    private var bytes = 0
    private var finished = false

    init(
        writer: ResponseWriter,
        upstream: any Channel,
        release: @escaping () -> Void,
        meter: AnswerMeter,
        heldHead: (HTTPResponseStatus, HTTPHeaders)?,
        done: @escaping (UpstreamExchange.Relayed) -> Void
    ) {
        self.meter = meter
        self.heldHead = heldHead
        self.writer = writer
        self.upstream = upstream
        self.release = release
        self.done = done
    }

    func body(_ buffer: ByteBuffer) {
        guard !finished else { return }
        if let output = meter.consume(buffer) {
            bytes += output.readableBytes
            writer.channel.write(HTTPServerResponsePart.body(.byteBuffer(output)), promise: nil)
        }
        if meter.stopped {
            // A guardrail ended the answer: the client gets a proper end, the upstream is dropped.
            finished = true
            upstream.close(promise: nil)
            succeed(complete: true)
        }
    }

    /// A read burst ended with the answer unfinished: flush, mind the client's pace.
    func readComplete() {
        let client = writer.channel
        client.flush()
        guard !client.isWritable, client.isActive else { return }
        // The client reads slower than the upstream writes: stop reading until it catches up.
        let upstream = self.upstream
        let writability = NIOLoopBound(writer.writability, eventLoop: upstream.eventLoop)
        upstream.setOption(.autoRead, value: false).whenSuccess {
            writability.value.whenWritable {
                upstream.setOption(.autoRead, value: true).whenSuccess { upstream.read() }
            }
        }
    }

    func end(reusable: Bool) {
        guard !finished else { return }
        finished = true
        if reusable { release() }
        let rest = meter.finish()
        if let (status, headers) = heldHead {
            var headers = headers
            headers.remove(name: "transfer-encoding")
            headers.replaceOrAdd(name: "content-length", value: String(rest?.readableBytes ?? 0))
            writer.writeHead(status: status, headers: headers)
        }
        if let rest {
            bytes += rest.readableBytes
            writer.channel.write(HTTPServerResponsePart.body(.byteBuffer(rest)), promise: nil)
        }
        succeed(complete: true)
    }

    func failed() {
        guard !finished else { return }
        finished = true
        if heldHead != nil {
            // Nothing was sent yet: the client can still be told properly.
            writer.writeError(.upstreamUnavailable("the model server broke off its answer; retry"))
        } else {
            // The status is sent; the only way to tell the client the answer is cut short is to close.
            writer.finished(false)
        }
        succeed(complete: false)
    }

    private func succeed(complete: Bool) {
        done(
            .init(
                bytes: bytes,
                complete: complete,
                usage: meter.usage(),
                firstPiece: meter.firstPiece,
                findings: meter.findings,
                overran: meter.overran,
                responseModel: meter.responseModel,
                finishReasons: meter.finishReasons
            )
        )
    }
}

/// Keeps the start of a declined answer's body, then closes its connection.
private final class ExcerptSink: UpstreamConnectionHandler.Sink {
    private let upstream: any Channel
    private var done: ((String) -> Void)?
    private var kept: [UInt8] = []
    var deadline: Scheduled<Void>?

    init(upstream: any Channel, done: @escaping (String) -> Void) {
        self.upstream = upstream
        self.done = done
    }

    func body(_ buffer: ByteBuffer) {
        kept.append(contentsOf: buffer.readableBytesView.prefix(UpstreamExchange.excerptBytes - kept.count))
        if kept.count >= UpstreamExchange.excerptBytes { end(reusable: false) }
    }

    func readComplete() {}

    func failed() { end(reusable: false) }

    func end(reusable: Bool) {
        guard let done else { return }
        self.done = nil
        deadline?.cancel()
        upstream.close(promise: nil)
        let printable = kept.map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: " ") : $0 }
        done(String(decoding: printable, as: UTF8.self))
    }
}
