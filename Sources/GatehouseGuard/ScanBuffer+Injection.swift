/// Phrase and tag matching for the prompt-injection heuristic.
extension ScanBuffer {
    /// The end of `phrase` whose first word ends at `firstWordEnd`, or nil when the text does not go on
    /// with it.
    func phraseEnd(
        _ phrase: InjectionLexicon.Phrase,
        after firstWordEnd: Int,
        lexicon: InjectionLexicon
    ) throws(NeedMore) -> Int? {
        var cursor = firstWordEnd
        for slot in phrase.slots.dropFirst() {
            var skipped = 0
            while true {
                guard let wordStart = try nextWordStart(after: cursor) else { return nil }
                if slot.isBlob, let blobEnd = try blobEnd(at: wordStart) {
                    cursor = blobEnd
                    break
                }
                guard let wordEnd = try runEnd(from: wordStart, limit: 32, ByteClass.isWord) else { return nil }
                if !slot.isBlob, let id = lexicon.wordID(bytes, wordStart..<wordEnd), slot.words.contains(id) {
                    cursor = wordEnd
                    break
                }
                skipped += 1
                guard skipped <= slot.fillers else { return nil }
                cursor = wordEnd
            }
        }
        return cursor
    }

    /// The end of `tag` at `start`, compared ignoring ASCII case; a space in the tag matches up to four
    /// whitespace bytes, and a tag ending in a letter must end a word.
    func tagEnd(_ tag: InjectionLexicon.Tag, at start: Int) throws(NeedMore) -> Int? {
        var cursor = start
        for expected in tag.bytes {
            if expected == UInt8(ascii: " ") {
                var spaces = 0
                while spaces < 4, try ByteClass.isSpace(peek(cursor)) {
                    cursor += 1
                    spaces += 1
                }
                continue
            }
            guard try ByteClass.lowercased(peek(cursor)) == expected else { return nil }
            cursor += 1
        }
        if let last = tag.bytes.last, ByteClass.isLetter(last), try ByteClass.isWord(peek(cursor)) { return nil }
        return cursor
    }

    /// The start of the next word after `index`, if at most 16 other bytes come first.
    private func nextWordStart(after index: Int) throws(NeedMore) -> Int? {
        var cursor = index
        while true {
            let byte = try peek(cursor)
            if ByteClass.isWord(byte) { return cursor }
            cursor += 1
            if cursor >= end && isComplete || cursor - index > 16 { return nil }
        }
    }

    /// The end of a base64-looking blob at `start`: at least 24 bytes of the base64 alphabet with upper- and
    /// lower-case letters and a digit or symbol (at most 512 are read).
    private func blobEnd(at start: Int) throws(NeedMore) -> Int? {
        var cursor = start
        var upper = false
        var lower = false
        var other = false
        while cursor - start < 512 {
            let byte = try peek(cursor)
            if ByteClass.isUpper(byte) {
                upper = true
            } else if ByteClass.isLower(byte) {
                lower = true
            } else if ByteClass.isDigit(byte) || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "/")
                || byte == UInt8(ascii: "=")
            {
                other = true
            } else {
                break
            }
            cursor += 1
        }
        return cursor - start >= 24 && upper && lower && other ? cursor : nil
    }
}
