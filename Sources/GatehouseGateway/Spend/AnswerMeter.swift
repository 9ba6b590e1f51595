import GatehouseCore
import NIOCore

/// Watches an upstream's answer on its way to the client: takes the `usage` it reports (the last one of
/// a stream), collects the answer's text so tokens can be counted when no usage comes, notes when the
/// first piece arrived, drops the usage-only event the gateway asked for on a caller's behalf, and puts
/// the answer through its guardrails (`AnswerGuard`): a stream event by event, a whole answer at its end.
/// Plain state, fed by the relay.
///
/// It also holds the upstream to the output bound it was sent. Every streamed event that carries text
/// took at least one generated token, so more such events than the bound prove an overrun however the
/// upstream counts: the stream is ended there (`finish_reason: length`). A whole answer is judged by the
/// usage it reports. Either way `overran` is set and the usage is at least the bound.
package final class AnswerMeter {
    /// Bodies larger than this are relayed without being kept; their usage is then estimated.
    static let maximumKeptBytes = 8 << 20

    private let stream: Bool
    private let dropUsageOnlyEvents: Bool
    private let answerGuard: AnswerGuard?
    private let outputBound: Int?
    /// Whether the answer's `model` and `finish_reason`s are noted (for a sampled trace only: it costs a
    /// look at every string of a whole answer).
    private let notesAnswerFields: Bool
    /// The model the upstream says answered, and each `finish_reason` it gave, once each.
    private(set) var responseModel: String?
    private(set) var finishReasons: [String] = []
    /// Streamed events that carried answer text.
    private var textEvents = 0
    /// True once the upstream was seen producing more than `outputBound`.
    private(set) var overran = false
    private var kept: [UInt8] = []
    /// Where in `kept` an unfinished event's end may still be: the bytes before it were searched already,
    /// so an event that arrives in many small pieces is searched once, not once per piece.
    private var unsearched = 0
    private var overflowed = false
    private(set) var reported: (input: Int, output: Int)?
    /// The answer's text (`content` and `text` fields), decoded, as the upstream sent it.
    private(set) var text: [UInt8] = []
    private(set) var firstPiece: ContinuousClock.Instant?
    /// True once a guardrail ended the answer: nothing more is sent.
    private(set) var stopped = false

    package init(
        stream: Bool,
        dropUsageOnlyEvents: Bool,
        answerGuard: AnswerGuard?,
        outputBound: Int? = nil,
        notesAnswerFields: Bool = false
    ) {
        self.stream = stream
        self.dropUsageOnlyEvents = dropUsageOnlyEvents
        self.answerGuard = answerGuard
        self.outputBound = outputBound
        self.notesAnswerFields = notesAnswerFields
    }

    /// Whether the whole answer is held until its end (a non-streamed answer a guardrail may change):
    /// its head is then sent last, with the final length.
    var holdsWholeAnswer: Bool { !stream && answerGuard?.changesAnswers == true }

    /// Whether what reaches the client may differ in length from what the upstream sent: a stream is
    /// relayed event by event, and an event may be dropped, changed by a guardrail, or ended with the
    /// blank line the upstream left out.
    var rewritesAnswer: Bool { stream }

    var findings: [GuardrailFinding] { answerGuard?.findings ?? [] }

    /// Takes one body part; returns what to send on now (complete events only, for a stream).
    package func consume(_ buffer: ByteBuffer) -> ByteBuffer? {
        if firstPiece == nil { firstPiece = .now }
        guard !stopped else { return nil }
        guard stream else {
            if kept.count + buffer.readableBytes <= Self.maximumKeptBytes {
                kept.append(contentsOf: buffer.readableBytesView)
            } else {
                overflowed = true
            }
            return holdsWholeAnswer ? nil : buffer
        }
        kept.append(contentsOf: buffer.readableBytesView)
        var output: [UInt8] = []
        var start = 0
        while !stopped, let end = Self.eventEnd(in: kept, from: max(start, unsearched)) {
            process(event: kept[start..<end.body], terminator: kept[end.body..<end.next], into: &output)
            start = end.next
        }
        kept.removeFirst(stopped ? kept.count : start)
        // A terminator is at most three bytes: the last two may be the start of one.
        unsearched = max(0, kept.count - 2)
        if kept.count > Self.maximumKeptBytes {
            // An event this large is not an event: pass it on as it is rather than hold it.
            output.append(contentsOf: kept)
            kept = []
            unsearched = 0
        }
        return output.isEmpty ? nil : ByteBuffer(bytes: output)
    }

    /// The end of the answer: what is left to send (an unterminated last event, text a guardrail held,
    /// or the whole held answer).
    package func finish() -> ByteBuffer? {
        if stream {
            var output: [UInt8] = []
            if !kept.isEmpty && !stopped { process(event: kept[...], terminator: [], into: &output) }
            kept = []
            flushGuard(choice: 0, into: &output)
            return output.isEmpty ? nil : ByteBuffer(bytes: output)
        }
        guard !overflowed else { return nil }
        reported = JSONFields.usage(in: kept[...])
        if let reported, let outputBound, reported.output > outputBound { overran = true }
        // The text is read to count tokens when none are reported, or to guard it.
        let readsText = reported == nil || answerGuard != nil
        guard readsText || notesAnswerFields else { return nil }
        let strings = JSONFields.stringValues(in: kept[...])
        if notesAnswerFields { note(strings) }
        guard readsText else { return nil }
        let values = strings.filter { Self.isAnswerText($0.key) }
        for value in values { text.append(contentsOf: value.text) }
        guard let answerGuard else { return nil }
        var replacements: [(Range<Int>, [UInt8])] = []
        for value in values {
            let checked = answerGuard.check(String(decoding: value.text, as: UTF8.self))
            if let checked, checked.utf8.elementsEqual(value.text) { continue }
            replacements.append((value.range, JSONFields.quoted((checked ?? "").utf8)))
        }
        if answerGuard.blocked {
            for value in strings where value.key.elementsEqual("finish_reason".utf8) {
                replacements.append((value.range, Array("\"content_filter\"".utf8)))
            }
        }
        guard holdsWholeAnswer else { return nil }
        return ByteBuffer(bytes: Self.splice(kept[...], replacements))
    }

    /// The usage to account: as reported, or the answer's tokens counted and marked estimated (the
    /// prompt's count, 0 here, is the caller's to fill in: it has the request).
    func usage() -> TokenUsage {
        // An answer that overran produced at least its bound, whatever is counted or reported.
        let floor = overran ? outputBound ?? 0 : 0
        if let reported {
            return TokenUsage(input: reported.input, output: max(reported.output, floor), estimated: false)
        }
        let output = overflowed ? kept.count / 4 : TokenEstimator.count(text)
        return TokenUsage(input: 0, output: max(output, floor), estimated: true)
    }

    /// Notes the answer's `model` (the first) and its `finish_reason`s (each once).
    private func note(_ values: [JSONFields.StringValue]) {
        for value in values where !value.text.isEmpty {
            if responseModel == nil, value.key.elementsEqual("model".utf8) {
                responseModel = String(decoding: value.text.prefix(256), as: UTF8.self)
            } else if value.key.elementsEqual("finish_reason".utf8), finishReasons.count < 16 {
                let reason = String(decoding: value.text.prefix(64), as: UTF8.self)
                if !finishReasons.contains(reason) { finishReasons.append(reason) }
            }
        }
    }

    // MARK: Streams

    /// Reads one event: usage, text, guardrails; appends what to send on to `output`.
    private func process(event: ArraySlice<UInt8>, terminator: ArraySlice<UInt8>, into output: inout [UInt8]) {
        var usageOnly = false
        var rewritten: [UInt8]?
        var dataLine: Range<Int>?
        var lineStart = event.startIndex
        while lineStart < event.endIndex {
            let lineEnd = event[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? event.endIndex
            var data = event[lineStart..<lineEnd]
            if data.last == UInt8(ascii: "\r") { data = data.dropLast() }
            lineStart = lineEnd + 1
            guard data.starts(with: "data:".utf8) else { continue }
            data = data.dropFirst(5)
            if data.first == UInt8(ascii: " ") { data = data.dropFirst() }
            if let usage = JSONFields.usage(in: data) {
                reported = usage
                usageOnly = JSONFields.hasEmptyChoices(data)
                if let outputBound, usage.output > outputBound { overran = true }
            }
            let values = JSONFields.stringValues(in: data)
            if notesAnswerFields { note(values) }
            var carriesText = false
            for value in values where !value.text.isEmpty && Self.isGenerated(value.key) {
                carriesText = true
                if Self.isAnswerText(value.key) { text.append(contentsOf: value.text) }
            }
            if carriesText {
                textEvents += 1
                if let outputBound, textEvents > outputBound {
                    overran = true
                    endStream(shapedLike: data, finishReason: "length", into: &output)
                    return
                }
            }
            guard answerGuard != nil else { continue }
            dataLine = data.startIndex..<data.endIndex
            rewritten = guardEvent(data, values: values, into: &output)
        }
        if stopped { return }
        if usageOnly && dropUsageOnlyEvents { return }
        guard let rewritten, let dataLine else {
            output.append(contentsOf: event)
            output.append(contentsOf: terminator.isEmpty ? Array("\n\n".utf8) : Array(terminator))
            return
        }
        output.append(contentsOf: event[event.startIndex..<dataLine.lowerBound])
        output.append(contentsOf: rewritten)
        output.append(contentsOf: event[dataLine.upperBound..<event.endIndex])
        output.append(contentsOf: terminator.isEmpty ? Array("\n\n".utf8) : Array(terminator))
    }

    /// One event's data through the guardrails: its text replaced by what may be sent now. At an event
    /// that ends the answer (`finish_reason`, `[DONE]`) the held rest follows: in that event's text, or in
    /// an event of its own before it; when a guardrail blocks, a last event says `content_filter`.
    private func guardEvent(
        _ data: ArraySlice<UInt8>,
        values: [JSONFields.StringValue],
        into output: inout [UInt8]
    ) -> [UInt8] {
        guard let answerGuard else { return Array(data) }
        let choice = JSONFields.index(in: data) ?? 0
        let texts = values.filter { Self.isAnswerText($0.key) }
        var released: [String] = []
        for value in texts {
            guard let text = answerGuard.feed(String(decoding: value.text, as: UTF8.self), choice: choice) else {
                return endWithContentFilter(shapedLike: data, choice: choice, into: &output)
            }
            released.append(text)
        }
        let ends =
            data.elementsEqual("[DONE]".utf8) || values.contains { $0.key.elementsEqual("finish_reason".utf8) }
        if ends {
            guard let rest = answerGuard.finish(choice: choice) else {
                return endWithContentFilter(shapedLike: data, choice: choice, into: &output)
            }
            if released.isEmpty {
                if !rest.isEmpty { output.append(contentsOf: Self.event(from: data, choice: choice, text: rest)) }
            } else {
                released[released.count - 1] += rest
            }
        }
        return Self.splice(data, zip(texts, released).map { ($0.range, JSONFields.quoted($1.utf8)) })
    }

    /// Sends what the guardrails still hold for `choice` at the end of the answer.
    private func flushGuard(choice: Int, into output: inout [UInt8]) {
        guard let answerGuard, !stopped else { return }
        guard let rest = answerGuard.finish(choice: choice) else {
            _ = endWithContentFilter(shapedLike: [], choice: choice, into: &output)
            return
        }
        if !rest.isEmpty { output.append(contentsOf: Self.event(from: [], choice: choice, text: rest)) }
    }

    /// Ends the stream: a `content_filter` event and `[DONE]`; nothing after it is sent.
    private func endWithContentFilter(
        shapedLike template: ArraySlice<UInt8>,
        choice: Int,
        into output: inout [UInt8]
    ) -> [UInt8] {
        endStream(shapedLike: template, choice: choice, into: &output)
        return []
    }

    /// A last event for `choice` with `finishReason`, then `[DONE]`; nothing after it is sent.
    private func endStream(
        shapedLike template: ArraySlice<UInt8>,
        choice: Int = 0,
        finishReason: String = "content_filter",
        into output: inout [UInt8]
    ) {
        output.append(contentsOf: Self.event(from: template, choice: choice, text: nil, finishReason: finishReason))
        output.append(contentsOf: "data: [DONE]\n\n".utf8)
        stopped = true
    }

    /// A chunk event carrying `text` for `choice`, or (nil) the ending with `finishReason`, with the id,
    /// object and model of `template`.
    private static func event(
        from template: ArraySlice<UInt8>,
        choice: Int,
        text: String?,
        finishReason: String = "content_filter"
    ) -> [UInt8] {
        var id: [UInt8] = Array("\"gatehouse\"".utf8)
        var object: [UInt8] = Array("\"chat.completion.chunk\"".utf8)
        var model: [UInt8] = Array("\"\"".utf8)
        for value in JSONFields.stringValues(in: template) {
            if value.key.elementsEqual("id".utf8) { id = Array(template[value.range]) }
            if value.key.elementsEqual("object".utf8) { object = Array(template[value.range]) }
            if value.key.elementsEqual("model".utf8) { model = Array(template[value.range]) }
        }
        let chat = !object.elementsEqual("\"text_completion\"".utf8)
        var choiceText = "{\"index\":\(choice),"
        let quoted = String(decoding: JSONFields.quoted((text ?? "").utf8), as: UTF8.self)
        if let text, !text.isEmpty {
            choiceText += chat ? "\"delta\":{\"content\":\(quoted)}}" : "\"text\":\(quoted)}"
        } else {
            choiceText += (chat ? "\"delta\":{}" : "\"text\":\"\"") + ",\"finish_reason\":\"\(finishReason)\"}"
        }
        var event = Array("data: {\"id\":".utf8) + id + Array(",\"object\":".utf8) + object
        event += Array(",\"created\":0,\"model\":".utf8) + model + Array(",\"choices\":[\(choiceText)]}\n\n".utf8)
        return event
    }

    // MARK: Bytes

    private static func isAnswerText(_ key: ArraySlice<UInt8>) -> Bool {
        key.elementsEqual("content".utf8) || key.elementsEqual("text".utf8)
    }

    /// A field whose text the model generated: the answer, its reasoning, or a tool call's arguments.
    private static func isGenerated(_ key: ArraySlice<UInt8>) -> Bool {
        isAnswerText(key) || key.elementsEqual("reasoning_content".utf8) || key.elementsEqual("arguments".utf8)
    }

    private static func splice(_ bytes: ArraySlice<UInt8>, _ replacements: [(Range<Int>, [UInt8])]) -> [UInt8] {
        guard !replacements.isEmpty else { return Array(bytes) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 64)
        var cursor = bytes.startIndex
        for (range, replacement) in replacements.sorted(by: { $0.0.lowerBound < $1.0.lowerBound }) {
            output.append(contentsOf: bytes[cursor..<range.lowerBound])
            output.append(contentsOf: replacement)
            cursor = range.upperBound
        }
        output.append(contentsOf: bytes[cursor..<bytes.endIndex])
        return output
    }

    /// Where the first event end at or after `start` is: the end of its lines, and where the next event begins.
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
