/// Personal data detectors: email addresses, phone numbers, payment cards and IBANs.
extension ScanBuffer {
    /// The longest local part of an email address (RFC 5321).
    static let longestLocalPart = 64

    /// The start of the local part before the `@` at `sign`: the first letter or digit of the run of
    /// local-part bytes before it, which must not hold `..` or end with a dot.
    func emailStart(at sign: Int) -> Int? {
        var runStart = sign
        while runStart > 0 && Self.isLocalPart(bytes[runStart - 1]) {
            runStart -= 1
            if sign - runStart > Self.longestLocalPart { return nil }
        }
        var start = runStart
        while start < sign && !ByteClass.isAlphanumeric(bytes[start]) { start += 1 }
        guard start < sign, bytes[sign - 1] != UInt8(ascii: ".") else { return nil }
        for index in start..<(sign - 1) where bytes[index] == UInt8(ascii: ".") && bytes[index + 1] == UInt8(ascii: ".")
        {
            return nil
        }
        return start
    }

    /// The end of the domain after the `@` at `sign`: at least two dot-separated labels of letters, digits and
    /// inner hyphens, the last one letters only and two or more long; a trailing dot is not part of it.
    func emailDomainEnd(at sign: Int) throws(NeedMore) -> Int? {
        guard
            var domainEnd = try runEnd(from: sign + 1, limit: 253, Self.isDomain)
        else { return nil }
        while domainEnd > sign + 1 && bytes[domainEnd - 1] == UInt8(ascii: ".") { domainEnd -= 1 }
        var labels = 0
        var labelStart = sign + 1
        var lastLabelIsLetters = true
        while labelStart < domainEnd {
            var labelEnd = labelStart
            var letters = true
            while labelEnd < domainEnd && bytes[labelEnd] != UInt8(ascii: ".") {
                letters = letters && ByteClass.isLetter(bytes[labelEnd])
                labelEnd += 1
            }
            let length = labelEnd - labelStart
            guard (1...63).contains(length), bytes[labelStart] != UInt8(ascii: "-"),
                bytes[labelEnd - 1] != UInt8(ascii: "-")
            else { return nil }
            labels += 1
            lastLabelIsLetters = letters && length >= 2
            labelStart = labelEnd + 1
        }
        return labels >= 2 && lastLabelIsLetters ? domainEnd : nil
    }

    /// The start of the run of local-part bytes that reaches the end of the buffer, if it could still
    /// become an email address.
    func trailingLocalPartStart() -> Int? {
        var start = end
        while start > 0 && Self.isLocalPart(bytes[start - 1]) {
            start -= 1
            if end - start > Self.longestLocalPart { return nil }
        }
        return start < end ? start : nil
    }

    /// A payment card or phone number starting at the digit, `+` or `(` at `start`.
    ///
    /// A number is a run of digit groups joined by single spaces, hyphens or dots (a group may be in
    /// parentheses) that is not part of a longer run of digits or of a word. A card is the whole run, or a
    /// prefix of whole groups when the run goes on, with 13 to 19 digits, one kind of separator, a known
    /// issuer prefix and a valid Luhn digit. A phone is the whole run: `+` and 8 to 15 digits, or a national
    /// form (`(555) 123-4567`, `555-123-4567`, `1-555-123-4567`, `020 7946 0958`, `06 12 34 56 78`).
    func numberEnd(at start: Int, phones: Bool, cards: Bool) throws(NeedMore) -> (GuardDetector, Int)? {
        let previous = before(start)
        if ByteClass.isWord(previous) || previous == UInt8(ascii: "+") || previous == UInt8(ascii: "_")
            || previous == UInt8(ascii: "(") || previous == UInt8(ascii: ")")
            || (Self.isNumberSeparator(previous) && ByteClass.isDigit(before(start - 1)))
        {
            return nil
        }
        let plus = bytes[start] == UInt8(ascii: "+")
        var cursor = plus ? start + 1 : start
        let firstByte = try peek(cursor)
        guard ByteClass.isDigit(firstByte) || firstByte == UInt8(ascii: "(") else { return nil }
        var run = NumberRun()
        while true {
            let parenthesized = try peek(cursor) == UInt8(ascii: "(")
            if parenthesized { cursor += 1 }
            let groupStart = cursor
            while try ByteClass.isDigit(peek(cursor)) {
                cursor += 1
                run.digits += 1
                if run.digits > 19 { break }
            }
            if run.digits > 19 { break }
            guard cursor > groupStart else { return nil }
            if parenthesized {
                guard try peek(cursor) == UInt8(ascii: ")") else { return nil }
                cursor += 1
                run.parentheses = true
            }
            run.addGroup(cursor - groupStart - (parenthesized ? 1 : 0))
            let next = try peek(cursor)
            if Self.isNumberSeparator(next) {
                let after = try peek(cursor + 1)
                let opensGroup = after == UInt8(ascii: "(") ? try ByteClass.isDigit(peek(cursor + 2)) : false
                if ByteClass.isDigit(after) || opensGroup {
                    run.separators.insert(next)
                    cursor += 1
                    continue
                }
            } else if parenthesized && ByteClass.isDigit(next) {
                continue
            }
            run.isWhole = !ByteClass.isWord(next)
            break
        }
        if cards && !plus && !run.parentheses, let cardEnd = cardEnd(start: start, run: run, runEnd: cursor) {
            return (.creditCard, cardEnd)
        }
        if phones && run.isWhole && isPhone(start: start, plus: plus, run: run) { return (.phone, cursor) }
        return nil
    }

    /// An IBAN at the upper-case letter at `start`: country, check digits and the account, compact or in
    /// groups of four separated by single spaces, with the country's length and a valid mod-97 check.
    func ibanEnd(at start: Int) throws(NeedMore) -> Int? {
        let country = bytes[start]
        let countrySecond = try peek(start + 1)
        let check = try peek(start + 2)
        let checkSecond = try peek(start + 3)
        guard ByteClass.isUpper(countrySecond), ByteClass.isDigit(check), ByteClass.isDigit(checkSecond) else {
            return nil
        }
        let expected = Self.ibanLength(country, countrySecond)
        let longest = expected > 0 ? expected : 34
        var cursor = start + 4
        var count = 4
        var remainder = 0
        let spaced = try peek(cursor) == UInt8(ascii: " ")
        while count < longest {
            if spaced && count % 4 == 0 {
                guard try peek(cursor) == UInt8(ascii: " "), try Self.isIBANCharacter(peek(cursor + 1)) else { break }
                cursor += 1
            }
            let byte = try peek(cursor)
            guard Self.isIBANCharacter(byte) else { break }
            remainder = Checksum.mod97(remainder, byte)
            cursor += 1
            count += 1
        }
        guard expected > 0 ? count == expected : count >= 15, try !ByteClass.isWord(peek(cursor)) else {
            return nil
        }
        for byte in [country, countrySecond, check, checkSecond] { remainder = Checksum.mod97(remainder, byte) }
        return remainder == 1 ? cursor : nil
    }

    private func cardEnd(start: Int, run: NumberRun, runEnd: Int) -> Int? {
        guard run.separators.isUniformCardSeparator else { return nil }
        if run.isWhole && (13...19).contains(run.digits) && isCard(start..<runEnd) { return runEnd }
        guard !run.separators.isEmpty else { return nil }
        var best: Int?
        var digits = 0
        var cursor = start
        while cursor < runEnd && digits <= 19 {
            if ByteClass.isDigit(bytes[cursor]) {
                digits += 1
            } else if (13...19).contains(digits) && isCard(start..<cursor) {
                best = cursor
            }
            cursor += 1
        }
        return best
    }

    private func isCard(_ range: Range<Int>) -> Bool {
        Checksum.hasKnownIssuer(bytes, range) && Checksum.passesLuhn(bytes, range)
    }

    private func isPhone(start: Int, plus: Bool, run: NumberRun) -> Bool {
        if plus { return (8...15).contains(run.digits) }
        guard run.groups >= 2, run.digits <= 15 else { return false }
        var firstDigit = start
        while !ByteClass.isDigit(bytes[firstDigit]) { firstDigit += 1 }
        let leadingZero = bytes[firstDigit] == UInt8(ascii: "0")
        if leadingZero && bytes[firstDigit + 1] == UInt8(ascii: "0") { return run.digits >= 10 }
        let lengths = (0..<min(run.groups, NumberRun.trackedGroups)).map(run.groupLength)
        if lengths == [3, 3, 4] { return true }
        if lengths == [1, 3, 3, 4] { return bytes[firstDigit] == UInt8(ascii: "1") }
        return leadingZero && (10...11).contains(run.digits) && run.groups <= 5 && (2...5).contains(lengths[0])
            && lengths.allSatisfy { $0 >= 2 }
    }

    @inline(__always)
    private static func isLocalPart(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-"): true
        default: ByteClass.isAlphanumeric(byte)
        }
    }

    @inline(__always)
    private static func isDomain(_ byte: UInt8) -> Bool {
        ByteClass.isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
    }

    @inline(__always)
    private static func isNumberSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }

    @inline(__always)
    private static func isIBANCharacter(_ byte: UInt8) -> Bool { ByteClass.isUpper(byte) || ByteClass.isDigit(byte) }

    private static func ibanLength(_ first: UInt8, _ second: UInt8) -> Int {
        Int(ibanLengths[Int(first &- 0x41) * 26 + Int(second &- 0x41)])
    }

    /// IBAN lengths by country, indexed by the two letters; 0 for countries not listed.
    private static let ibanLengths: [UInt8] = {
        let lengths: [String: UInt8] = [
            "AD": 24, "AE": 23, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "CH": 21, "CY": 28, "CZ": 24,
            "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23, "GL": 18,
            "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "KW": 30, "KZ": 20, "LB": 28,
            "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "ME": 22, "MK": 19, "MT": 31, "NL": 18, "NO": 15,
            "PL": 28, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
            "TN": 24, "TR": 26, "UA": 29,
        ]
        var table = [UInt8](repeating: 0, count: 26 * 26)
        for (country, length) in lengths {
            let letters = Array(country.utf8)
            table[Int(letters[0] - 0x41) * 26 + Int(letters[1] - 0x41)] = length
        }
        return table
    }()
}

/// What a number run looked like: digit and group counts, separators, parentheses.
struct NumberRun {
    /// Group lengths are kept for this many groups; phone shapes have fewer.
    static let trackedGroups = 12

    /// The separators seen, as bits: space, hyphen, dot.
    struct Separators {
        private var bits: UInt8 = 0

        var isEmpty: Bool { bits == 0 }
        /// No separator, or only spaces, or only hyphens.
        var isUniformCardSeparator: Bool { bits == 0 || bits == 1 || bits == 2 }

        mutating func insert(_ byte: UInt8) {
            let bit: UInt8 =
                switch byte {
                case UInt8(ascii: " "): 1
                case UInt8(ascii: "-"): 2
                default: 4
                }
            bits |= bit
        }
    }

    var digits = 0
    var groups = 0
    var parentheses = false
    var separators = Separators()
    /// Whether the run ended by itself rather than at the digit limit or glued to a word.
    var isWhole = false
    private var lengths: UInt64 = 0

    mutating func addGroup(_ length: Int) {
        if groups < Self.trackedGroups { lengths |= UInt64(min(length, 31)) << UInt64(5 * groups) }
        groups += 1
    }

    func groupLength(_ index: Int) -> Int { Int((lengths >> UInt64(5 * index)) & 31) }
}
