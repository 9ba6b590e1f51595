import Foundation

/// What the fixture model answers to one request: a status and either one JSON body or a series of
/// server-sent events. Pure: no I/O, so it is tested without sockets.
public struct FixtureReply: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case json([UInt8])
        case events([[UInt8]])
    }

    public let status: Int
    public let body: Body

    /// The reply to `method path` with `body`, for a fixture serving `models`.
    public static func answer(
        method: String,
        path: String,
        body: [UInt8],
        configuration: FixtureModel.Configuration
    ) -> FixtureReply {
        let route = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        switch (method, route) {
        case ("GET", "/v1/models"), ("GET", "/health"):
            return FixtureReply(status: 200, body: .json(modelList(configuration).bytes))
        case ("POST", "/v1/chat/completions"), ("POST", "/v1/completions"), ("POST", "/v1/embeddings"):
            guard let request = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
                return error(400, "invalid_request_error", "the body is not a JSON object")
            }
            guard let model = request["model"] as? String, configuration.models.contains(model) else {
                return error(
                    404,
                    "model_not_found",
                    "the fixture serves \(configuration.models.joined(separator: ", "))"
                )
            }
            switch route {
            case "/v1/embeddings": return embeddings(request, model: model, configuration: configuration)
            case "/v1/completions":
                return completion(request, model: model, chat: false, configuration: configuration)
            default: return completion(request, model: model, chat: true, configuration: configuration)
            }
        default:
            return error(404, "not_found", "no route \(method) \(route) on the fixture model")
        }
    }

    // MARK: Answers

    private static func modelList(_ configuration: FixtureModel.Configuration) -> FixtureJSON {
        .object([
            "object": .string("list"),
            "data": .array(
                configuration.models.map {
                    .object([
                        "id": .string($0), "object": .string("model"), "created": .int(created),
                        "owned_by": .string("gatehouse-fixture"),
                    ])
                }
            ),
        ])
    }

    private static func completion(
        _ request: [String: Any],
        model: String,
        chat: Bool,
        configuration: FixtureModel.Configuration
    ) -> FixtureReply {
        let report = configuration.usage
        let prompt = promptText(request, chat: chat)
        let promptTokens = max(1, prompt.split(whereSeparator: \.isWhitespace).count)
        let bounds = [request["max_tokens"] as? Int, chat ? request["max_completion_tokens"] as? Int : nil]
        let limit = configuration.ignoresMaxTokens ? nil : bounds.compactMap { $0 }.min()
        let words = answerPieces(for: prompt, limit: limit)
        let id = FixtureJSON.string((chat ? "chatcmpl-" : "cmpl-") + "fixture")
        let object = FixtureJSON.string(chat ? "chat.completion" : "text_completion")
        let reported = report == .inflated ? (10_000_000, 10_000_000) : (promptTokens, words.count)
        let usage: FixtureJSON? =
            report == .omitted
            ? nil
            : .object([
                "prompt_tokens": .int(reported.0), "completion_tokens": .int(reported.1),
                "total_tokens": .int(reported.0 + reported.1),
            ])
        let finish = FixtureJSON.string(
            limit == words.count && words.count < fullAnswerLength ? "length" : "stop"
        )
        let name = FixtureJSON.string(model)
        guard request["stream"] as? Bool == true else {
            let text = FixtureJSON.string(words.joined())
            let choice: FixtureJSON =
                chat
                ? .object([
                    "index": .int(0), "message": .object(["role": .string("assistant"), "content": text]),
                    "finish_reason": finish,
                ])
                : .object(["index": .int(0), "text": text, "finish_reason": finish])
            let answer: FixtureJSON = .object([
                "id": id, "object": object, "created": .int(created), "model": name, "choices": .array([choice]),
                "usage": usage,
            ])
            return FixtureReply(status: 200, body: .json(answer.bytes))
        }
        let chunkObject = FixtureJSON.string(chat ? "chat.completion.chunk" : "text_completion")
        func chunk(_ choice: FixtureJSON?, usage: FixtureJSON? = nil) -> [UInt8] {
            var event = Array("data: ".utf8)
            FixtureJSON.object([
                "id": id, "object": chunkObject, "created": .int(created), "model": name,
                "choices": .array(choice.map { [$0] } ?? []), "usage": usage,
            ])
            .write(to: &event)
            event += "\n\n".utf8
            return event
        }
        var events: [[UInt8]] = []
        if chat {
            let opening = FixtureJSON.object(["role": .string("assistant"), "content": .string("")])
            events.append(chunk(.object(["index": .int(0), "delta": opening])))
        }
        for piece in words {
            let text = FixtureJSON.string(piece)
            events.append(
                chunk(
                    chat
                        ? .object(["index": .int(0), "delta": .object(["content": text])])
                        : .object(["index": .int(0), "text": text])
                )
            )
        }
        events.append(
            chunk(
                chat
                    ? .object(["index": .int(0), "delta": .object([:]), "finish_reason": finish])
                    : .object(["index": .int(0), "text": .string(""), "finish_reason": finish])
            )
        )
        let options = request["stream_options"] as? [String: Any]
        if options?["include_usage"] as? Bool == true, let usage { events.append(chunk(nil, usage: usage)) }
        events.append(Array("data: [DONE]\n\n".utf8))
        return FixtureReply(status: 200, body: .events(events))
    }

    private static func embeddings(
        _ request: [String: Any],
        model: String,
        configuration: FixtureModel.Configuration
    ) -> FixtureReply {
        let inputs: [String]
        if let single = request["input"] as? String {
            inputs = [single]
        } else if let many = request["input"] as? [String], !many.isEmpty {
            inputs = many
        } else {
            return error(400, "invalid_request_error", "input must be a string or a list of strings")
        }
        let data = inputs.enumerated().map { index, text in
            FixtureJSON.object([
                "object": .string("embedding"), "index": .int(index),
                "embedding": .array(
                    vector(for: text, dimensions: configuration.embeddingDimensions).map { .number($0) }
                ),
            ])
        }
        let tokens = inputs.reduce(0) { $0 + max(1, $1.split(whereSeparator: \.isWhitespace).count) }
        let answer: FixtureJSON = .object([
            "object": .string("list"), "data": .array(data), "model": .string(model),
            "usage": .object(["prompt_tokens": .int(tokens), "total_tokens": .int(tokens)]),
        ])
        return FixtureReply(status: 200, body: .json(answer.bytes))
    }

    // MARK: Pieces

    private static let fullAnswerLength = 12
    /// The creation time every answer reports (fixed, so answers compare equal across runs).
    private static let created = 1_764_115_200

    /// The answer as the pieces a stream sends: the fixed sentence word by word (cut to `limit` words),
    /// or, for a prompt with `echo: `, what follows the last one of the prompt in pieces of three characters
    /// (so tests can send a known text through the gateway split across events).
    private static func answerPieces(for prompt: String, limit: Int?) -> [String] {
        if let marker = prompt.range(of: "echo: ", options: .backwards) {
            let text = Array(prompt[marker.upperBound...])
            return stride(from: 0, to: text.count, by: 3).map { String(text[$0..<min($0 + 3, text.count)]) }
        }
        let sentence = "This is the Gatehouse fixture model, not a real model; it answers every prompt alike."
        let words = sentence.split(separator: " ").map(String.init)
        let kept = words.prefix(min(max(limit ?? fullAnswerLength, 1), fullAnswerLength))
        return kept.enumerated().map { $0.offset == 0 ? $0.element : " " + $0.element }
    }

    private static func promptText(_ request: [String: Any], chat: Bool) -> String {
        if chat {
            let messages = request["messages"] as? [[String: Any]] ?? []
            return messages.compactMap { $0["content"] as? String }.joined(separator: " ")
        }
        if let prompt = request["prompt"] as? String { return prompt }
        return (request["prompt"] as? [String])?.joined(separator: " ") ?? ""
    }

    /// A unit vector that depends only on the text, so equal inputs embed equally.
    private static func vector(for text: String, dimensions: Int) -> [Double] {
        var state: UInt64 = 1_469_598_103_934_665_603
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* 1_099_511_628_211 }
        var values: [Double] = []
        values.reserveCapacity(dimensions)
        for _ in 0..<dimensions {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values.append(Double(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000)
        }
        let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return values.map { norm > 0 ? ($0 / norm * 1_000_000).rounded() / 1_000_000 : 0 }
    }

    static func error(_ status: Int, _ type: String, _ message: String) -> FixtureReply {
        let kind = FixtureJSON.string(type)
        let body: FixtureJSON = .object([
            "error": .object(["message": .string(message), "type": kind, "code": kind])
        ])
        return FixtureReply(status: status, body: .json(body.bytes))
    }
}
