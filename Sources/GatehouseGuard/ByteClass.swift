/// Byte predicates for scanning UTF-8 at the byte level.
///
/// Bytes of non-ASCII characters count as word bytes, so a match never starts or ends inside a word
/// written in another script.
enum ByteClass {
    @inline(__always) static func isDigit(_ byte: UInt8) -> Bool { byte &- 0x30 < 10 }

    @inline(__always) static func isUpper(_ byte: UInt8) -> Bool { byte &- 0x41 < 26 }

    @inline(__always) static func isLower(_ byte: UInt8) -> Bool { byte &- 0x61 < 26 }

    @inline(__always) static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) &- 0x61 < 26 }

    @inline(__always) static func isAlphanumeric(_ byte: UInt8) -> Bool { isLetter(byte) || isDigit(byte) }

    /// A letter, a digit or a byte of a non-ASCII character; tested against two bit masks, without branches
    /// on the byte's value, because the scanner's hot loop runs it on every byte of every word.
    @inline(__always) static func isWord(_ byte: UInt8) -> Bool {
        let digits: UInt64 = 0x03FF_0000_0000_0000
        let letters: UInt64 = 0x07FF_FFFE_07FF_FFFE
        let mask = byte & 0x40 == 0 ? digits : letters
        return byte >= 0x80 || (mask >> UInt64(byte & 0x3F)) & 1 != 0
    }

    /// Space, tab, line feed, vertical tab, form feed or carriage return.
    @inline(__always) static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte &- 0x09 < 5 }

    /// A byte of a base64url alphabet: letters, digits, `-` and `_`.
    @inline(__always) static func isBase64URL(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    /// The second to fourth byte of a multi-byte UTF-8 sequence.
    @inline(__always) static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

    @inline(__always) static func lowercased(_ byte: UInt8) -> UInt8 { isUpper(byte) ? byte | 0x20 : byte }
}
