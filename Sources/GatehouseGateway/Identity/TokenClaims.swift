import Foundation
import JWTKit

/// The claims of a bearer token, all of them, so that any claim can become a label. The registered
/// claims are checked by `JWTVerifier` (with leeway), not here.
struct TokenClaims: JWTPayload {
    enum Value: Sendable, Equatable {
        case string(String)
        case number(Double)
        case bool(Bool)
        case strings([String])
        case other
    }

    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    let values: [String: Value]

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        var values: [String: Value] = [:]
        for key in container.allKeys {
            if let text = try? container.decode(String.self, forKey: key) {
                values[key.stringValue] = .string(text)
            } else if let flag = try? container.decode(Bool.self, forKey: key) {
                values[key.stringValue] = .bool(flag)
            } else if let number = try? container.decode(Double.self, forKey: key) {
                values[key.stringValue] = .number(number)
            } else if let list = try? container.decode([String].self, forKey: key) {
                values[key.stringValue] = .strings(list)
            } else {
                values[key.stringValue] = .other
            }
        }
        self.values = values
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in values {
            switch value {
            case .string(let text): try container.encode(text, forKey: Key(stringValue: key))
            case .number(let number): try container.encode(number, forKey: Key(stringValue: key))
            case .bool(let flag): try container.encode(flag, forKey: Key(stringValue: key))
            case .strings(let list): try container.encode(list, forKey: Key(stringValue: key))
            case .other: continue
            }
        }
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}

    func string(_ name: String) -> String? {
        if case .string(let text) = values[name] { return text }
        return nil
    }

    func number(_ name: String) -> Double? {
        if case .number(let number) = values[name] { return number }
        return nil
    }

    /// `aud` as a list, whether the token wrote a string or a list.
    var audiences: [String] {
        switch values["aud"] {
        case .string(let text): return [text]
        case .strings(let list): return list
        default: return []
        }
    }
}
