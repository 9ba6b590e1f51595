extension ScanBuffer {
    /// The end of `keyword` (lower-cased) at `start`, whose first byte is known to match, ignoring ASCII case;
    /// a space in the keyword matches one to four whitespace bytes, and the match must end a word.
    func keywordEnd(_ keyword: [UInt8], at start: Int) throws(NeedMore) -> Int? {
        var cursor = start + 1
        for expected in keyword.dropFirst() {
            if expected == UInt8(ascii: " ") {
                var spaces = 0
                while spaces < 4, try ByteClass.isSpace(peek(cursor)) {
                    cursor += 1
                    spaces += 1
                }
                guard spaces > 0 else { return nil }
            } else {
                guard try ByteClass.lowercased(peek(cursor)) == expected else { return nil }
                cursor += 1
            }
        }
        return try ByteClass.isWord(peek(cursor)) ? nil : cursor
    }
}
