import Foundation
import GatehouseTesting
import Testing

@testable import GatehouseGateway

/// The request-body scanner: strict JSON, the two fields, refused duplicates; checked against
/// Foundation's parser on thousands of mutated bodies.
@Suite struct JSONBodyScannerTests {
    static func scan(_ text: String) -> Result<JSONBodyScanner.Fields, JSONBodyScanner.Failure> {
        Array(text.utf8).withUnsafeBytes { bytes in
            Result { () throws(JSONBodyScanner.Failure) in try JSONBodyScanner.scan(bytes) }
        }
    }

    @Test func readsModelAndStream() {
        let first = #"{"model":"m","stream":true,"messages":[{"a":[1,-2.5e3,null,false]}]}"#
        #expect(
            Self.scan(first)
                == .success(
                    .init(
                        model: "m",
                        stream: true,
                        messages: 1,
                        settable: .init(model: 1..<12),
                        objectBounds: 0..<(first.utf8.count - 1)
                    )
                )
        )
        let second = #" {"model":"caf\u00e9 \ud83d\ude00\n"} "#
        #expect(
            Self.scan(second)
                == .success(
                    .init(
                        model: "café 😀\n",
                        stream: nil,
                        settable: .init(model: 2..<(second.utf8.count - 2)),
                        objectBounds: 1..<(second.utf8.count - 2)
                    )
                )
        )
        #expect(Self.scan("{}") == .success(.init(objectBounds: 0..<1)))
    }

    @Test func readsTheFieldsLimitsAndAccountingNeed() throws {
        let fields = try Self.scan(
            #"{"model":"m","max_tokens":50,"max_completion_tokens":70,"n":2,"tools":[{},{},{}],"#
                + #""messages":[],"stream_options":{"include_usage":true,"x":[1]},"input":["a","b"]}"#
        ).get()
        #expect(fields.maxTokens == 50 && fields.maxCompletionTokens == 70)
        #expect(fields.n == 2)
        #expect(fields.tools == 3)
        #expect(fields.messages == 0)
        #expect(fields.inputs == 2)
        #expect(fields.hasStreamOptions && fields.includeUsage == true)
        // Clients send null for "not given".
        let nulls = try Self.scan(#"{"model":"m","max_tokens":null,"n":null,"tools":null,"stream_options":null}"#).get()
        #expect(nulls.maxTokens == nil && nulls.n == nil && nulls.tools == nil && !nulls.hasStreamOptions)
        // ... but a null member the gateway sets is still noted, so that it is replaced, not doubled.
        #expect(
            nulls.settable.model == 1..<12 && nulls.settable.maxTokens != nil && nulls.settable.streamOptions != nil
        )
        #expect(nulls.settable.maxCompletionTokens == nil)
        #expect(try Self.scan(#"{"model":"m","best_of":3,"n":2}"#).get().bestOf == 3)
        // OpenAI's lower bounds: no answer of zero tokens or zero choices.
        for field in ["max_tokens", "max_completion_tokens", "n", "best_of"] {
            #expect(Self.scan("{\"\(field)\":0}") == .failure(.wrongType(field, expected: "at least 1")))
        }
        // Choices are bounded, so max_tokens × n × best_of stays far from overflowing.
        #expect(try Self.scan(#"{"n":128,"best_of":128,"max_tokens":999999999}"#).get().bestOf == 128)
        for field in ["n", "best_of"] {
            #expect(Self.scan("{\"\(field)\":129}") == .failure(.wrongType(field, expected: "at most 128")))
        }
        // llama.cpp reads n_predict before max_tokens: a bound the gateway did not reserve for.
        #expect(
            Self.scan(#"{"n_predict":null}"#)
                == .failure(.wrongType("n_predict", expected: "left out: max_tokens bounds the output"))
        )
        #expect(try Self.scan(#"{"model":"m","input":"one text"}"#).get().inputs == 1)
        #expect(Self.scan(#"{"max_tokens":1.5}"#) == .failure(.wrongType("max_tokens", expected: "a whole number")))
        #expect(Self.scan(#"{"n":-1}"#) == .failure(.wrongType("n", expected: "a whole number")))
        #expect(
            Self.scan(#"{"max_tokens":9999999999}"#) == .failure(.wrongType("max_tokens", expected: "a whole number"))
        )
        #expect(Self.scan(#"{"messages":{}}"#) == .failure(.wrongType("messages", expected: "an array")))
        #expect(Self.scan(#"{"stream_options":true}"#) == .failure(.wrongType("stream_options", expected: "an object")))
        // Counted arrays are still checked for refused keys inside.
        #expect(Self.scan(#"{"messages":[{"api_base":"x"}]}"#) == .failure(.refusedKey("api_base")))
    }

    static let refused: [(String, JSONBodyScanner.Failure)] = [
        (#"{"x":[{"API-Base":"http://evil"}]}"#, .refusedKey("API-Base")),
        (#"{"x":{"\u0061pi_key":"k"}}"#, .refusedKey("api_key")),
        (#"{"base_url":"http://evil"}"#, .refusedKey("base_url")),
        (#"{"model":"a","model":"b"}"#, .duplicateKey("model")),
        (#"{"model":"a","\u006dodel":"b"}"#, .duplicateKey("model")),
        (#"{"model":1}"#, .wrongType("model", expected: "a string")),
        (#"{"stream":"yes"}"#, .wrongType("stream", expected: "true or false")),
        ("[1]", .notAnObject),
        (#""text""#, .notAnObject),
        (#"{"a":01}"#, .invalid),
        (#"{"a":1,}"#, .invalid),
        ("{\"a\":\"\t\"}", .invalid),
        (#"{"a":"\x"}"#, .invalid),
        (#"{"a":tru}"#, .invalid),
        (#"{"a":1} {}"#, .invalid),
        ("", .invalid),
        (String(repeating: "[", count: 70) + String(repeating: "]", count: 70), .notAnObject),
        ("{\"a\":" + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}", .tooDeep),
    ]

    @Test(arguments: refused)
    func refusesWhatIsNotOneValidObject(text: String, failure: JSONBodyScanner.Failure) {
        if case .failure(let got) = Self.scan(text), got == failure || (failure == .notAnObject && got == .tooDeep) {
            return
        }
        Issue.record("\(text.prefix(60)): \(Self.scan(text))")
    }

    /// 60,000 top-level keys took about 7 s when each key was compared with every earlier one.
    @Test func manyTopLevelKeysAreCheckedInLinearTime() {
        var text = "{"
        for index in 0..<200_000 { text += "\"k\(index)\":1," }
        let unique = text + "\"model\":\"m\"}"
        let doubled = text + "\"k199999\":2}"
        let clock = ContinuousClock()
        var results: [Result<JSONBodyScanner.Fields, JSONBodyScanner.Failure>] = []
        let elapsed = clock.measure {
            results = [Self.scan(unique), Self.scan(doubled)]
        }
        #expect((try? results[0].get().model) == "m")
        #expect(results[1] == .failure(.duplicateKey("k199999")))
        #expect(elapsed < .seconds(5), "two scans of 2.6 MiB with 200,000 keys took \(elapsed)")
    }

    @Test func refusesInvalidUTF8() {
        let bytes: [UInt8] = Array(#"{"model":""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        let result = bytes.withUnsafeBytes { bytes in
            Result { () throws(JSONBodyScanner.Failure) in try JSONBodyScanner.scan(bytes) }
        }
        #expect(result == .failure(.invalid))
    }

    @Test func agreesWithFoundationOnMutatedBodies() {
        let seeds = [
            #"{"model":"fixture-small","stream":true,"messages":[{"role":"user","content":"hi \"there\" \u00e9"}],"temperature":0.7,"n":1,"stop":null}"#,
            #"{"model":"m","input":["a","b"],"dimensions":-12.5e-3,"x":{"y":[true,false,null,{}]}}"#,
        ]
        var generator = SeededGenerator(seed: 11)
        let mutator = ByteMutator(alphabet: "{}[]:,\"\\ 0123456789.-+eEtrufalsn\u{7}\u{0}\u{e9}", maximumEdits: 3)
        var disagreements: [String] = []
        for round in 0..<4000 {
            let bytes = Array(mutator.mutate(Array(seeds[round % seeds.count].utf8), using: &generator).utf8)
            let ours = bytes.withUnsafeBytes { bytes in
                Result { () throws(JSONBodyScanner.Failure) in try JSONBodyScanner.scan(bytes) }
            }
            let theirs = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
            switch ours {
            case .success(let fields):
                if theirs == nil || theirs?["model"] as? String != fields.model {
                    disagreements.append(String(decoding: bytes, as: UTF8.self))
                }
            case .failure(.duplicateKey), .failure(.refusedKey), .failure(.wrongType), .failure(.tooDeep):
                continue
            case .failure:
                if theirs != nil { disagreements.append(String(decoding: bytes, as: UTF8.self)) }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}
