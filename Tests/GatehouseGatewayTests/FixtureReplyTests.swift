import Foundation
import Testing

@testable import GatehouseFixtureModel

/// The fixture model's answers, without sockets: every body is JSON a real client reads back.
@Suite struct FixtureReplyTests {
    private static let configuration = FixtureModel.Configuration()

    private static func answer(_ path: String, _ request: String, method: String = "POST") -> FixtureReply {
        FixtureReply.answer(method: method, path: path, body: Array(request.utf8), configuration: configuration)
    }

    private static func object(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func everyByteBelowSpaceQuotesAndBackslashesAreEscaped() throws {
        var text = String(decoding: (0..<0x20).map { UInt8($0) }, as: UTF8.self)
        text += "\"quoted\" back\\slash / é 🦊 \u{7F}"
        let written = FixtureJSON.array([.string(text), .string("")]).bytes
        #expect(!written.contains { $0 < 0x20 })
        let read = try #require(try JSONSerialization.jsonObject(with: Data(written)) as? [String])
        #expect(read == [text, ""])
    }

    @Test func membersWithoutAValueAreLeftOutAndNumbersReadBack() throws {
        let absent: FixtureJSON? = nil
        let written = FixtureJSON.object([
            "a": .int(-12), "gone": absent, "b": .number(0.125), "c": .number(.infinity), "d": .bool(false),
            "e": .null, "f": .object([:]), "g": .number(1e-7),
        ])
        .bytes
        #expect(
            String(decoding: written, as: UTF8.self)
                == #"{"a":-12,"b":0.125,"c":null,"d":false,"e":null,"f":{},"g":1e-07}"#
        )
        let read = try Self.object(written)
        #expect(read["a"] as? Int == -12)
        #expect(read["g"] as? Double == 1e-7)
        #expect(read["gone"] == nil)
    }

    @Test func aStreamedChatCarriesTheEchoedTextAndUsageWhenAskedFor() throws {
        let echoed = "say \"hi\"\\\n\ttabs, 🦊 and \u{1}"
        let prompt = "echo: " + echoed
        let request = try JSONSerialization.data(withJSONObject: [
            "model": "fixture-small", "stream": true, "stream_options": ["include_usage": true],
            "messages": [["role": "user", "content": prompt]],
        ])
        let reply = Self.answer("/v1/chat/completions", String(decoding: request, as: UTF8.self))
        #expect(reply.status == 200)
        guard case .events(let events) = reply.body else {
            Issue.record("expected events, got \(reply.body)")
            return
        }
        #expect(events.last == Array("data: [DONE]\n\n".utf8))
        var text = ""
        var usage: [String: Any]?
        for event in events.dropLast() {
            #expect(event.starts(with: Array("data: ".utf8)) && event.suffix(2) == Array("\n\n".utf8))
            let chunk = try Self.object(Array(event.dropFirst(6).dropLast(2)))
            #expect(chunk["object"] as? String == "chat.completion.chunk")
            #expect(chunk["model"] as? String == "fixture-small")
            let choices = try #require(chunk["choices"] as? [[String: Any]])
            let delta = choices.first?["delta"] as? [String: Any]
            text += delta?["content"] as? String ?? ""
            if let reported = chunk["usage"] as? [String: Any] { usage = reported }
        }
        #expect(text == echoed)
        let pieces = echoed.count / 3 + (echoed.count % 3 == 0 ? 0 : 1)
        #expect(usage?["completion_tokens"] as? Int == pieces)
        #expect(usage?["total_tokens"] as? Int == pieces + (usage?["prompt_tokens"] as? Int ?? -1))
    }

    @Test func wholeAnswersEmbeddingsModelsAndErrorsAreJSON() throws {
        let chat = Self.answer(
            "/v1/chat/completions",
            #"{"model":"fixture-small","max_tokens":3,"messages":[{"role":"user","content":"hi"}]}"#
        )
        guard case .json(let chatBytes) = chat.body else { throw FixtureReplyTestFailure.notJSON }
        let completion = try Self.object(chatBytes)
        let choice = try #require((completion["choices"] as? [[String: Any]])?.first)
        #expect((choice["message"] as? [String: Any])?["content"] as? String == "This is the")
        #expect(choice["finish_reason"] as? String == "length")
        #expect((completion["usage"] as? [String: Any])?["completion_tokens"] as? Int == 3)

        let embedding = Self.answer("/v1/embeddings", #"{"model":"fixture-embedding","input":["a","b c"]}"#)
        guard case .json(let embeddingBytes) = embedding.body else { throw FixtureReplyTestFailure.notJSON }
        let data = try #require(try Self.object(embeddingBytes)["data"] as? [[String: Any]])
        #expect(data.count == 2)
        let vector = try #require(data.first?["embedding"] as? [Double])
        #expect(vector.count == Self.configuration.embeddingDimensions)
        #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 0.001)

        let models = Self.answer("/v1/models", "", method: "GET")
        guard case .json(let modelBytes) = models.body else { throw FixtureReplyTestFailure.notJSON }
        let listed = try #require(try Self.object(modelBytes)["data"] as? [[String: Any]])
        #expect(listed.compactMap { $0["id"] as? String } == Self.configuration.models)

        let unknown = Self.answer("/v1/chat/completions", #"{"model":"gpt-\"x\"","messages":[]}"#)
        #expect(unknown.status == 404)
        guard case .json(let errorBytes) = unknown.body else { throw FixtureReplyTestFailure.notJSON }
        #expect((try Self.object(errorBytes)["error"] as? [String: Any])?["code"] as? String == "model_not_found")
    }

    private enum FixtureReplyTestFailure: Error { case notJSON }
}
