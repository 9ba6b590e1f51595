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
            return FixtureReply(status: 200, body: .json(json(modelList(configuration))))
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
            case "/v1/completions": return completion(request, model: model, chat: false, usage: configuration.usage)
            default: return completion(request, model: model, chat: true, usage: configuration.usage)
            }
        default:
            return error(404, "not_found", "no route \(method) \(route) on the fixture model")
        }
    }

    // MARK: Answers

    private static func modelList(_ configuration: FixtureModel.Configuration) -> [String: Any] {
        [
            "object": "list",
            "data": configuration.models.map {
                ["id": $0, "object": "model", "created": 1_764_115_200, "owned_by": "gatehouse-fixture"]
                    as [String: Any]
            },
        ]
    }

    private static func completion(
        _ request: [String: Any],
        model: String,
        chat: Bool,
        usage report: FixtureModel.Configuration.UsageReport
    ) -> FixtureReply {
        let prompt = promptText(request, chat: chat)
        let promptTokens = max(1, prompt.split(whereSeparator: \.isWhitespace).count)
        let words = answerPieces(for: prompt, limit: request["max_tokens"] as? Int)
        let id = (chat ? "chatcmpl-" : "cmpl-") + "fixture"
        let object = chat ? "chat.completion" : "text_completion"
        let reported = report == .inflated ? (10_000_000, 10_000_000) : (promptTokens, words.count)
        let usage: [String: Any]? =
            report == .omitted
            ? nil
            : [
                "prompt_tokens": reported.0, "completion_tokens": reported.1,
                "total_tokens": reported.0 + reported.1,
            ]
        let finish = request["max_tokens"] as? Int == words.count && words.count < fullAnswerLength ? "length" : "stop"
        guard request["stream"] as? Bool == true else {
            let text = words.joined()
            let choice: [String: Any] =
                chat
                ? ["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": finish]
                : ["index": 0, "text": text, "finish_reason": finish]
            var answer: [String: Any] = [
                "id": id, "object": object, "created": 1_764_115_200, "model": model, "choices": [choice],
            ]
            if let usage { answer["usage"] = usage }
            return FixtureReply(status: 200, body: .json(json(answer)))
        }
        let chunkObject = chat ? "chat.completion.chunk" : "text_completion"
        func chunk(_ choice: [String: Any]?, usage: [String: Any]? = nil) -> [UInt8] {
            var event: [String: Any] = [
                "id": id, "object": chunkObject, "created": 1_764_115_200, "model": model,
                "choices": choice.map { [$0] } ?? [],
            ]
            if let usage { event["usage"] = usage }
            return Array("data: ".utf8) + json(event) + Array("\n\n".utf8)
        }
        var events: [[UInt8]] = []
        if chat { events.append(chunk(["index": 0, "delta": ["role": "assistant", "content": ""]])) }
        for piece in words {
            events.append(
                chunk(chat ? ["index": 0, "delta": ["content": piece]] : ["index": 0, "text": piece])
            )
        }
        events.append(
            chunk(
                chat
                    ? ["index": 0, "delta": [:] as [String: Any], "finish_reason": finish]
                    : ["index": 0, "text": "", "finish_reason": finish]
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
            [
                "object": "embedding", "index": index,
                "embedding": vector(for: text, dimensions: configuration.embeddingDimensions),
            ]
                as [String: Any]
        }
        let tokens = inputs.reduce(0) { $0 + max(1, $1.split(whereSeparator: \.isWhitespace).count) }
        return FixtureReply(
            status: 200,
            body: .json(
                json([
                    "object": "list", "data": data, "model": model,
                    "usage": ["prompt_tokens": tokens, "total_tokens": tokens],
                ])
            )
        )
    }

    // MARK: Pieces

    private static let fullAnswerLength = 12

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
        FixtureReply(status: status, body: .json(json(["error": ["message": message, "type": type, "code": type]])))
    }

    private static func json(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }
}
