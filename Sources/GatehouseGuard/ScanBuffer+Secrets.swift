/// Credential detectors. Each takes the offset of a candidate's first byte and returns the end of the match.
extension ScanBuffer {
    /// How a private key block ends: at its END line, or not yet.
    enum KeyBlock {
        case closed(end: Int)
        case open
    }

    /// Where the END line of a private key block is, searching from an offset.
    enum KeyEndLine {
        case found(end: Int)
        /// An END line may start here but has not fully arrived.
        case partial(start: Int)
        case absent
    }

    /// The longest JSON Web Token considered, in bytes; a longer base64url run is not reported.
    static let longestJWT = 4096
    /// The longest Slack token, OpenAI key or generic secret value considered, in bytes.
    static let longestToken = 256
    static let longestSecretValue = 512
    /// The longest END line of a private key block: `-----END`, a label and `-----`.
    static let longestKeyEndLine = 77

    /// `AKIA` or `ASIA`, then 16 upper-case letters or digits, at the `A` at `start`.
    func awsKeyEnd(at start: Int) throws(NeedMore) -> Int? {
        let second = try peek(start + 1)
        guard second == UInt8(ascii: "K") || second == UInt8(ascii: "S"), try matches("IA", at: start + 2) else {
            return nil
        }
        for index in (start + 4)..<(start + 20) {
            let byte = try peek(index)
            guard ByteClass.isUpper(byte) || ByteClass.isDigit(byte) else { return nil }
        }
        return try ByteClass.isWord(peek(start + 20)) ? nil : start + 20
    }

    /// `ghp_`, `gho_`, `ghu_`, `ghs_` or `ghr_` and 36 letters or digits, or `github_pat_` and 82 letters,
    /// digits or underscores, at the `g` at `start`.
    func githubTokenEnd(at start: Int) throws(NeedMore) -> Int? {
        switch try peek(start + 1) {
        case UInt8(ascii: "h"):
            switch try peek(start + 2) {
            case UInt8(ascii: "p"), UInt8(ascii: "o"), UInt8(ascii: "u"), UInt8(ascii: "s"), UInt8(ascii: "r"):
                guard try peek(start + 3) == UInt8(ascii: "_") else { return nil }
                return try fixedRunEnd(from: start + 4, count: 36, underscores: false)
            default:
                return nil
            }
        case UInt8(ascii: "i"):
            guard try matches("thub_pat_", at: start + 2) else { return nil }
            return try fixedRunEnd(from: start + 11, count: 82, underscores: true)
        default:
            return nil
        }
    }

    /// `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-` or `xoxs-` and at least 10 letters, digits or hyphens, at the `x`
    /// at `start`.
    func slackTokenEnd(at start: Int) throws(NeedMore) -> Int? {
        guard try matches("ox", at: start + 1) else { return nil }
        switch try peek(start + 3) {
        case UInt8(ascii: "b"), UInt8(ascii: "p"), UInt8(ascii: "a"), UInt8(ascii: "r"), UInt8(ascii: "s"): break
        default: return nil
        }
        guard try peek(start + 4) == UInt8(ascii: "-"),
            let tokenEnd = try runEnd(from: start + 5, limit: Self.longestToken, Self.isSlackToken)
        else { return nil }
        return tokenEnd - (start + 5) >= 10 ? tokenEnd : nil
    }

    /// `sk-` (which covers `sk-proj-`) and at least 20 base64url bytes, at the `s` at `start`.
    func openAIKeyEnd(at start: Int) throws(NeedMore) -> Int? {
        let previous = before(start)
        guard previous != UInt8(ascii: "_"), previous != UInt8(ascii: "-"), try matches("k-", at: start + 1),
            let keyEnd = try runEnd(from: start + 3, limit: Self.longestToken, ByteClass.isBase64URL)
        else { return nil }
        return keyEnd - (start + 3) >= 20 ? keyEnd : nil
    }

    /// Three base64url segments of at least 10 bytes joined by dots, the first starting with `eyJ`, at the
    /// `e` at `start`.
    func jwtEnd(at start: Int) throws(NeedMore) -> Int? {
        guard try matches("yJ", at: start + 1) else { return nil }
        var cursor = start
        for segment in 0..<3 {
            let limit = Self.longestJWT - (cursor - start)
            guard let segmentEnd = try runEnd(from: cursor, limit: limit, ByteClass.isBase64URL),
                segmentEnd - cursor >= 10
            else { return nil }
            cursor = segmentEnd
            if segment < 2 {
                guard try peek(cursor) == UInt8(ascii: ".") else { return nil }
                cursor += 1
            }
        }
        return cursor
    }

    /// A `-----BEGIN ... PRIVATE KEY-----` block at the first dash at `start`, through its END line or, in
    /// complete text, through the end when there is none.
    func privateKeyBlock(at start: Int) throws(NeedMore) -> KeyBlock? {
        guard try matches("-----BEGIN ", at: start) else { return nil }
        let labelStart = start + 11
        var cursor = labelStart
        while true {
            let byte = try peek(cursor)
            if byte == UInt8(ascii: "-") { break }
            guard ByteClass.isUpper(byte) || ByteClass.isDigit(byte) || byte == UInt8(ascii: " "),
                cursor - labelStart < 48
            else { return nil }
            cursor += 1
        }
        guard try matches("-----", at: cursor), labelNamesPrivateKey(labelStart..<cursor) else { return nil }
        switch keyEndLine(searchingFrom: cursor + 5) {
        case .found(let blockEnd): return .closed(end: blockEnd)
        case .partial, .absent: return isComplete ? .closed(end: end) : .open
        }
    }

    /// The first `-----END ...-----` line at or after `index`.
    func keyEndLine(searchingFrom index: Int) -> KeyEndLine {
        var cursor = index
        while cursor < end {
            if bytes[cursor] == UInt8(ascii: "-") {
                do {
                    if try matches("-----END", at: cursor) {
                        var lineEnd = cursor + 8
                        while lineEnd - cursor < Self.longestKeyEndLine - 5 {
                            let byte = try peek(lineEnd)
                            guard ByteClass.isUpper(byte) || ByteClass.isDigit(byte) || byte == UInt8(ascii: " ")
                            else { break }
                            lineEnd += 1
                        }
                        if try matches("-----", at: lineEnd) { lineEnd += 5 }
                        return .found(end: lineEnd)
                    }
                } catch {
                    return .partial(start: cursor)
                }
            }
            cursor += 1
        }
        return .absent
    }

    /// The start of a high-entropy value assigned to a secret-like key by the `=` or `:` at `separator`,
    /// with the value's end; nil when the key is not secret-like.
    ///
    /// The key is the identifier before the separator, optionally quoted and followed by up to four spaces;
    /// the value follows after up to four spaces and an optional quote.
    func secretValue(separator: Int) throws(NeedMore) -> Range<Int>? {
        guard let keyEnd = secretKeyEnd(separator: separator) else { return nil }
        var keyStart = keyEnd
        while keyStart > 0 && Self.isIdentifier(bytes[keyStart - 1]) {
            keyStart -= 1
            if keyEnd - keyStart > 64 { return nil }
        }
        guard keyStart < keyEnd, namesSecret(keyStart..<keyEnd) else { return nil }
        var valueStart = separator + 1
        var spaces = 0
        while spaces < 4, try Self.isBlank(peek(valueStart)) {
            valueStart += 1
            spaces += 1
        }
        let quote = try peek(valueStart)
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") { valueStart += 1 }
        guard
            let valueEnd = try runEnd(from: valueStart, limit: Self.longestSecretValue, Self.isSecretValue),
            valueEnd - valueStart >= 16,
            Checksum.entropy(bytes, valueStart..<valueEnd) >= 3.5
        else { return nil }
        return valueStart..<valueEnd
    }

    private func fixedRunEnd(from index: Int, count: Int, underscores: Bool) throws(NeedMore) -> Int? {
        for cursor in index..<(index + count) {
            let byte = try peek(cursor)
            guard ByteClass.isAlphanumeric(byte) || (underscores && byte == UInt8(ascii: "_")) else { return nil }
        }
        let next = try peek(index + count)
        return ByteClass.isWord(next) || next == UInt8(ascii: "_") ? nil : index + count
    }

    private func labelNamesPrivateKey(_ label: Range<Int>) -> Bool {
        let words: StaticString = "PRIVATE KEY"
        let count = words.utf8CodeUnitCount
        guard label.count >= count else { return false }
        for start in label.lowerBound...(label.upperBound - count) {
            var offset = 0
            while offset < count && bytes[start + offset] == words.utf8Start[offset] { offset += 1 }
            if offset == count { return true }
        }
        return false
    }

    /// The end of the key before a separator: up to four spaces and an optional closing quote are skipped.
    private func secretKeyEnd(separator: Int) -> Int? {
        var keyEnd = separator
        var spaces = 0
        while spaces < 4 && keyEnd > 0 && Self.isBlank(bytes[keyEnd - 1]) {
            keyEnd -= 1
            spaces += 1
        }
        let quote = before(keyEnd)
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") { keyEnd -= 1 }
        return keyEnd > 0 ? keyEnd : nil
    }

    /// Whether the identifier contains a secret key word that ends it or is followed by `_`, `-` or `.`
    /// (`db_password`, `apiKey`, `secret_key_id`; not `author` or `max_tokens`).
    private func namesSecret(_ identifier: Range<Int>) -> Bool {
        for wordEnd in identifier.lowerBound..<identifier.upperBound + 1 {
            if wordEnd < identifier.upperBound {
                let byte = bytes[wordEnd]
                guard byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") else {
                    continue
                }
            }
            for word in Self.secretKeyWords where word.count <= wordEnd - identifier.lowerBound {
                var offset = 1
                while offset <= word.count
                    && ByteClass.lowercased(bytes[wordEnd - offset]) == word[word.count - offset]
                {
                    offset += 1
                }
                if offset > word.count { return true }
            }
        }
        return false
    }

    private static let secretKeyWords: [[UInt8]] = [
        "password", "passwd", "pwd", "passphrase", "secret", "token", "apikey", "api_key", "api-key",
        "access_key", "accesskey", "auth",
    ].map { Array($0.utf8) }

    @inline(__always)
    private static func isSlackToken(_ byte: UInt8) -> Bool {
        ByteClass.isAlphanumeric(byte) || byte == UInt8(ascii: "-")
    }

    /// A byte of a generic secret value: base64, base64url and hex cover most generated secrets.
    @inline(__always)
    private static func isSecretValue(_ byte: UInt8) -> Bool {
        ByteClass.isBase64URL(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
            || byte == UInt8(ascii: "=")
    }

    @inline(__always)
    private static func isIdentifier(_ byte: UInt8) -> Bool {
        ByteClass.isAlphanumeric(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".")
    }

    @inline(__always)
    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
}
