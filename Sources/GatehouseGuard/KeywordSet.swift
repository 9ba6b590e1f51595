/// Keyword lists compiled for matching: ASCII-lower-cased bytes with whitespace runs collapsed to one space,
/// bucketed by their first byte.
struct KeywordSet: Sendable {
    struct Keyword: Sendable {
        let bytes: [UInt8]
        let rule: GuardRule
    }

    /// The longest keyword accepted, in UTF-8 bytes.
    static let longest = 128

    /// Keywords ordered by first byte.
    let keywords: [Keyword]
    /// Where each first byte's keywords start in ``keywords``; 257 bounds.
    private let bounds: [Int]

    init(_ lists: [GuardKeywordList]) throws(GuardConfigurationError) {
        var keywords: [Keyword] = []
        for list in lists {
            for word in list.words {
                let words = word.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
                let bytes = words.utf8.map(ByteClass.lowercased)
                guard let first = bytes.first, ByteClass.isWord(first) else {
                    throw GuardConfigurationError(
                        .invalidKeyword,
                        "keywords must start with a letter or digit",
                        name: list.name
                    )
                }
                guard bytes.count <= Self.longest else {
                    throw GuardConfigurationError(
                        .invalidKeyword,
                        "keywords must be at most \(Self.longest) bytes long",
                        name: list.name
                    )
                }
                keywords.append(Keyword(bytes: bytes, rule: .keywords(list.name)))
            }
        }
        keywords = keywords.enumerated().sorted { ($0.element.bytes[0], $0.offset) < ($1.element.bytes[0], $1.offset) }
            .map(\.element)
        var bounds = [Int](repeating: keywords.count, count: 257)
        for (index, keyword) in keywords.enumerated().reversed() { bounds[Int(keyword.bytes[0])] = index }
        for byte in (0..<256).reversed() { bounds[byte] = min(bounds[byte], bounds[byte + 1]) }
        self.keywords = keywords
        self.bounds = bounds
    }

    var isEmpty: Bool { keywords.isEmpty }

    /// Indices of the keywords whose first byte is `byte`, lower-cased.
    @inline(__always)
    func candidates(startingWith byte: UInt8) -> Range<Int> {
        let first = Int(ByteClass.lowercased(byte))
        return bounds[first]..<bounds[first + 1]
    }
}
