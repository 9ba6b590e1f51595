import GatehouseCore
import NIOCore

/// Watches an upstream's answer on its way to the client: takes the `usage` it reports (the last one of
/// a stream), collects the text it streams so tokens can be counted when no usage comes, notes when
/// the first piece of answer arrived, and — when the gateway asked for usage on the caller's behalf —
/// drops the usage-only event the caller did not ask for. Plain state, fed by the relay.
final class AnswerMeter {
    /// Bodies larger than this are relayed without being kept; their usage is then estimated.
    static let maximumKeptBytes = 8 << 20

    private let stream: Bool
    private let dropUsageOnlyEvents: Bool
    private var kept: [UInt8] = []
    private var overflowed = false
    private(set) var reported: (input: Int, output: Int)?
    /// The streamed answer's text (`content` and `text` fields), decoded.
    private(set) var text: [UInt8] = []
    private(set) var firstPiece: ContinuousClock.Instant?

    init(stream: Bool, dropUsageOnlyEvents: Bool) {
        self.stream = stream
        self.dropUsageOnlyEvents = dropUsageOnlyEvents
    }

    /// Takes one body part; returns what to send on (complete events only, for a stream).
    func consume(_ buffer: ByteBuffer) -> ByteBuffer? {
        if firstPiece == nil { firstPiece = .now }
        guard stream else {
            if kept.count + buffer.readableBytes <= Self.maximumKeptBytes {
                kept.append(contentsOf: buffer.readableBytesView)
            } else {
                overflowed = true
            }
            return buffer
        }
        kept.append(contentsOf: buffer.readableBytesView)
        var output: [UInt8] = []
        var start = 0
        while let end = Self.eventEnd(in: kept, from: start) {
            if keep(event: kept[start..<end.body]) { output.append(contentsOf: kept[start..<end.next]) }
            start = end.next
        }
        kept.removeFirst(start)
        if kept.count > Self.maximumKeptBytes {
            // An event this large is not an event: pass it on as it is rather than hold it.
            output.append(contentsOf: kept)
            kept = []
        }
        return output.isEmpty ? nil : ByteBuffer(bytes: output)
    }

    /// What is left at the end of the answer (an unterminated last event), to send on.
    func finish() -> ByteBuffer? {
        if stream {
            defer { kept = [] }
            guard !kept.isEmpty else { return nil }
            _ = keep(event: kept[...])
            return ByteBuffer(bytes: kept)
        }
        guard !overflowed else { return nil }
        if let usage = JSONFields.usage(in: kept[...]) {
            reported = usage
        } else {
            JSONFields.appendStrings(named: ["content", "text"], in: kept[...], to: &text)
        }
        return nil
    }

    /// The usage to account: as reported, or counted (`estimatedInput` for the prompt) and marked so.
    func usage(estimatedInput: Int) -> TokenUsage {
        if let reported { return TokenUsage(input: reported.input, output: reported.output, estimated: false) }
        let output = overflowed ? kept.count / 4 : TokenEstimator.count(text)
        return TokenUsage(input: estimatedInput, output: output, estimated: true)
    }

    /// Reads one event's `data:` lines; returns whether to send it on.
    private func keep(event: ArraySlice<UInt8>) -> Bool {
        var usageOnly = false
        for line in event.split(separator: UInt8(ascii: "\n")) {
            var data = line.last == UInt8(ascii: "\r") ? line.dropLast() : line[...]
            guard data.starts(with: "data:".utf8) else { continue }
            data = data.dropFirst(5)
            if data.first == UInt8(ascii: " ") { data = data.dropFirst() }
            if let usage = JSONFields.usage(in: data) {
                reported = usage
                usageOnly = JSONFields.hasEmptyChoices(data)
            }
            JSONFields.appendStrings(named: ["content", "text"], in: data, to: &text)
        }
        return !(usageOnly && dropUsageOnlyEvents)
    }

    /// Where the event starting at `start` ends: the end of its lines, and where the next one begins.
    private static func eventEnd(in bytes: [UInt8], from start: Int) -> (body: Int, next: Int)? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if bytes[index + 1] == UInt8(ascii: "\n") { return (index, index + 2) }
                if bytes[index + 1] == UInt8(ascii: "\r"), index + 2 < bytes.count,
                    bytes[index + 2] == UInt8(ascii: "\n")
                {
                    return (index, index + 3)
                }
            }
            index += 1
        }
        return nil
    }
}
