/// Mutates text for fuzzing: a few random replacements, insertions and deletions of bytes from an alphabet.
public struct ByteMutator: Sendable {
    public let alphabet: [UInt8]
    public let maximumEdits: Int

    public init(alphabet: String, maximumEdits: Int) {
        self.alphabet = Array(alphabet.utf8)
        self.maximumEdits = maximumEdits
    }

    /// A mutated copy of `seed` (UTF-8 may break on purpose: decoders must cope).
    public func mutate(_ seed: [UInt8], using random: inout SeededGenerator) -> String {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...maximumEdits, using: &random) where !bytes.isEmpty {
            let position = Int.random(in: 0..<bytes.count, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0: bytes[position] = alphabet.randomElement(using: &random)!
            case 1: bytes.insert(alphabet.randomElement(using: &random)!, at: position)
            default: bytes.remove(at: position)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
