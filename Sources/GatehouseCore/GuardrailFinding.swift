/// What a guardrail found in a request or an answer: the direction, the detector (the rule's name) and
/// where, never the text itself. Audit records keep it as `prompt:email@12`, the form `description` gives.
public struct GuardrailFinding: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Direction: String, Sendable, Hashable, Codable {
        case prompt
        case answer
    }

    public let direction: Direction
    public let detector: String
    /// The byte offset in the request body (prompt) or in the answer's text (answer).
    public let offset: Int

    public init(direction: Direction, detector: String, offset: Int) {
        self.direction = direction
        self.detector = detector
        self.offset = offset
    }

    public var description: String { "\(direction.rawValue):\(detector)@\(offset)" }

    /// Reads the stored form back; nil for text that is not one.
    public init?(_ text: Substring) {
        guard let at = text.lastIndex(of: "@"), let colon = text[..<at].firstIndex(of: ":"),
            let direction = Direction(rawValue: String(text[..<colon])),
            let offset = Int(text[text.index(after: at)...]),
            offset >= 0
        else { return nil }
        self.init(direction: direction, detector: String(text[text.index(after: colon)..<at]), offset: offset)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let finding = GuardrailFinding(text[...]) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "not a finding: \(text)")
            )
        }
        self = finding
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
