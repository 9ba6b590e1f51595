import Foundation
import GatehouseTesting
import NIOCore
import Testing

@testable import GatehouseGateway

/// The fields the gateway sets on a forwarded body replace the caller's, `null` ones included, and the
/// result is one valid JSON object: checked on chosen cases and on thousands of mutated bodies.
@Suite struct RequestBodyPatchTests {
    static func patched(_ text: String, _ configure: (inout RequestBodyPatch) -> Void) throws -> String {
        let body = ByteBuffer(string: text)
        let inspected = try RequestInspector.inspect(body).get()
        var patch = RequestBodyPatch()
        configure(&patch)
        return String(buffer: inspected.patched(body, with: patch))
    }

    static func object(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    static func count(of key: String, in text: String) -> Int {
        text.components(separatedBy: "\"\(key)\":").count - 1
    }

    @Test func aNullStreamOptionsIsReplacedNotDoubled() throws {
        let text = try Self.patched(#"{"model":"m","stream":true,"stream_options":null,"messages":[]}"#) {
            $0.set(.streamOptions, json: #"{"include_usage":true}"#)
        }
        #expect(Self.count(of: "stream_options", in: text) == 1)
        let options = Self.object(text)?["stream_options"] as? [String: Any]
        #expect(options?["include_usage"] as? Bool == true)
        #expect(Self.object(text)?["messages"] != nil)
    }

    @Test(arguments: [
        #"{"max_tokens":null,"model":"m","n":1}"#,
        #"{"model":"m","max_tokens":null,"n":1}"#,
        #"{"model":"m","n":1,"max_tokens":null}"#,
        #"{ "model" : "m" , "max_tokens" : 5 , "max_completion_tokens" : 9 }"#,
        "{\n  \"max_tokens\": 5,\n  \"model\": \"m\",\n  \"max_completion_tokens\": null\n}\n",
        #"{"model":"m","messages":[{"content":"\"max_tokens\":1"}],"x":{"max_tokens":2}}"#,
    ])
    func setFieldsStandOnceAndTheRestIsKept(body: String) throws {
        let text = try Self.patched(body) {
            $0.set(.maxTokens, json: "64")
            $0.remove(.maxCompletionTokens)
            $0.set(.model, json: #""upstream-name""#)
        }
        let object = try #require(Self.object(text), "\(text)")
        #expect(object["max_tokens"] as? Int == 64)
        #expect(object["model"] as? String == "upstream-name")
        #expect(object["max_completion_tokens"] == nil)
        #expect(Self.count(of: "max_completion_tokens", in: text) == 0)
        let original = try #require(Self.object(body))
        for (key, value) in original where !["max_tokens", "max_completion_tokens", "model"].contains(key) {
            #expect("\(object[key] ?? "missing")" == "\(value)", "\(key) in \(text)")
        }
    }

    @Test func anEmptyPatchLeavesTheBodyAsItIs() throws {
        let body = #"{ "model": "m",  "max_tokens": 3 }"#
        #expect(try Self.patched(body) { _ in } == body)
    }

    @Test func everyMemberRemovedLeavesTheSetFieldsAlone() throws {
        let text = try Self.patched(#"{"model":"a","max_tokens":1,"stream_options":{"include_usage":false}}"#) {
            $0.set(.model, json: #""b""#)
            $0.set(.maxTokens, json: "2")
            $0.set(.streamOptions, json: "null")
        }
        #expect(text == #"{"model":"b","max_tokens":2,"stream_options":null}"#)
    }

    /// Whatever body the scanner accepts, the patched one parses, holds each set field once with its
    /// value, and keeps every other member.
    @Test func patchedMutatedBodiesAreValidJSONWithEachFieldOnce() throws {
        let seeds = [
            #"{"model":"fixture-small","stream":true,"stream_options":null,"messages":[{"role":"user","content":"hi"}],"max_tokens":7}"#,
            #"{"max_completion_tokens":3,"model":"m","input":["a","b"],"x":{"max_tokens":[true,false,null,{}]}}"#,
        ]
        var generator = SeededGenerator(seed: 17)
        let mutator = ByteMutator(alphabet: "{}[]:,\" \n0123456789nul", maximumEdits: 3)
        var checked = 0
        for round in 0..<4000 {
            let text = mutator.mutate(Array(seeds[round % seeds.count].utf8), using: &generator)
            let body = ByteBuffer(string: text)
            guard case .success(let inspected) = RequestInspector.inspect(body),
                let original = Self.object(text)
            else { continue }
            var patch = RequestBodyPatch()
            patch.set(.maxTokens, json: "11")
            patch.set(.streamOptions, json: #"{"include_usage":true}"#)
            patch.remove(.maxCompletionTokens)
            let patched = String(buffer: inspected.patched(body, with: patch))
            let object = try #require(Self.object(patched), "\(text) -> \(patched)")
            #expect(object["max_tokens"] as? Int == 11)
            #expect(object["max_completion_tokens"] == nil)
            // The scanner refuses a top-level key given twice.
            let again = RequestInspector.inspect(ByteBuffer(string: patched))
            #expect((try? again.get()) != nil, "\(patched): \(again)")
            let expected = Set(original.keys).subtracting(["max_completion_tokens"])
                .union(["max_tokens", "stream_options"])
            #expect(Set(object.keys) == expected)
            checked += 1
        }
        #expect(checked > 500)
    }
}
