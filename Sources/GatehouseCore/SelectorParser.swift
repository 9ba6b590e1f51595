/// A recursive-descent parser for Calico selector text, over UTF-8 bytes.
///
/// Grammar (from Calico's `libcalico-go/lib/selector/parser/parser.go`):
/// `or := and ("||" and)*`, `and := unary ("&&" unary)*`,
/// `unary := "!" unary | "(" or ")" | "all()" | "global()" | "has(" label ")" | label op`,
/// `op := ("==" | "!=" | "contains" | "starts with" | "ends with") string | ("in" | "not in") set`.
struct SelectorParser {
    private let bytes: [UInt8]
    private var position = 0
    private var depth = 0

    /// Labels longer than this are refused, as in Calico's tokenizer.
    static let maximumLabelLength = 512
    /// Bounds recursion so that hostile input cannot exhaust the stack.
    static let maximumDepth = 100

    init(_ text: String) { self.bytes = Array(text.utf8) }

    mutating func parse() throws(SelectorError) -> Selector {
        skipSpace()
        if position == bytes.count { return .all }
        let selector = try parseOr()
        skipSpace()
        guard position == bytes.count else { throw error("unexpected \(describeNext())") }
        return selector
    }

    private mutating func parseOr() throws(SelectorError) -> Selector {
        var terms = [try parseAnd()]
        while consume("||") { terms.append(try parseAnd()) }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func parseAnd() throws(SelectorError) -> Selector {
        var terms = [try parseUnary()]
        while consume("&&") { terms.append(try parseUnary()) }
        return terms.count == 1 ? terms[0] : .and(terms)
    }

    private mutating func parseUnary() throws(SelectorError) -> Selector {
        depth += 1
        defer { depth -= 1 }
        guard depth <= SelectorParser.maximumDepth else { throw error("selector nests too deeply") }
        skipSpace()
        guard position < bytes.count else { throw error("expected an expression, found the end") }
        if peek("!=") { throw error("expected an expression, found '!='") }
        if consume("!") { return .not(try parseUnary()) }
        if consume("(") {
            let inner = try parseOr()
            guard consume(")") else { throw error("expected ')', found \(describeNext())") }
            return inner
        }
        if consumeCall("all") {
            guard consume(")") else { throw error("expected 'all()'") }
            return .all
        }
        if consumeCall("global") {
            guard consume(")") else { throw error("expected 'global()'") }
            return .global
        }
        if consumeCall("has") {
            let label = try parseLabel()
            guard consume(")") else { throw error("expected ')' after the label in has(), found \(describeNext())") }
            return .has(label)
        }
        let label = try parseLabel()
        return try parseOperation(on: label)
    }

    private mutating func parseOperation(on label: String) throws(SelectorError) -> Selector {
        skipSpace()
        if consume("==") { return .equal(label, try parseString()) }
        if consume("!=") { return .notEqual(label, try parseString()) }
        // Calico accepts the two-word operators with or without spaces between the words ("notin").
        if consume("not") {
            guard consumeWord("in") else { throw error("expected 'in' after 'not'") }
            return .notIn(label, try parseSet())
        }
        if consumeWord("in") { return .in(label, try parseSet()) }
        if consumeWord("contains") { return .contains(label, try parseString()) }
        if consume("starts") {
            guard consumeWord("with") else { throw error("expected 'with' after 'starts'") }
            return .startsWith(label, try parseString())
        }
        if consume("ends") {
            guard consumeWord("with") else { throw error("expected 'with' after 'ends'") }
            return .endsWith(label, try parseString())
        }
        throw error(
            "expected an operator (==, !=, in, not in, contains, starts with, ends with) after label '\(label)', "
                + "found \(describeNext())"
        )
    }

    private mutating func parseSet() throws(SelectorError) -> [String] {
        guard consume("{") else { throw error("expected '{' to start a set, found \(describeNext())") }
        var values: [String] = []
        if consume("}") { return values }
        repeat {
            if peek("}") { break }  // Calico accepts a trailing comma.
            values.append(try parseString())
        } while consume(",")
        guard consume("}") else { throw error("expected ',' or '}' in a set, found \(describeNext())") }
        return values
    }

    private mutating func parseString() throws(SelectorError) -> String {
        skipSpace()
        guard position < bytes.count, bytes[position] == UInt8(ascii: "'") || bytes[position] == UInt8(ascii: "\"")
        else { throw error("expected a quoted string, found \(describeNext())") }
        let quote = bytes[position]
        let start = position + 1
        guard let end = bytes[start...].firstIndex(of: quote) else { throw error("unterminated string") }
        position = end + 1
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private mutating func parseLabel() throws(SelectorError) -> String {
        skipSpace()
        let start = position
        while position < bytes.count, SelectorParser.isLabelByte(bytes[position]) { position += 1 }
        guard position > start else { throw error("expected a label, found \(describeNext())") }
        guard position - start <= SelectorParser.maximumLabelLength else {
            position = start
            throw error("label longer than \(SelectorParser.maximumLabelLength) characters")
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    static func isLabelByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "/"),
            UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    private mutating func skipSpace() {
        // Calico's tokenizer skips spaces and tabs only.
        while position < bytes.count, bytes[position] == UInt8(ascii: " ") || bytes[position] == UInt8(ascii: "\t") {
            position += 1
        }
    }

    private mutating func peek(_ token: StaticString) -> Bool {
        skipSpace()
        let count = token.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        return token.withUTF8Buffer { buffer in
            bytes[position..<position + count].elementsEqual(buffer)
        }
    }

    private mutating func consume(_ token: StaticString) -> Bool {
        guard peek(token) else { return false }
        position += token.utf8CodeUnitCount
        return true
    }

    /// Consumes a keyword only when it is not the start of a longer label (`inbound` is a label).
    private mutating func consumeWord(_ word: StaticString) -> Bool {
        guard peek(word) else { return false }
        let end = position + word.utf8CodeUnitCount
        if end < bytes.count, SelectorParser.isLabelByte(bytes[end]) { return false }
        position = end
        return true
    }

    /// Consumes `name(` (a function such as `has(`, with no space before the parenthesis); a label of the
    /// same name, as in `has == 'x'`, is left alone.
    private mutating func consumeCall(_ name: StaticString) -> Bool {
        let start = position
        skipSpace()
        let count = name.utf8CodeUnitCount
        let matches =
            position + count < bytes.count
            && name.withUTF8Buffer { bytes[position..<position + count].elementsEqual($0) }
            && bytes[position + count] == UInt8(ascii: "(")
        guard matches else {
            position = start
            return false
        }
        position += count + 1
        return true
    }

    private func describeNext() -> String {
        guard position < bytes.count else { return "the end" }
        let end = min(bytes.count, position + 12)
        return "'\(String(decoding: bytes[position..<end], as: UTF8.self))'"
    }

    private func error(_ reason: String) -> SelectorError {
        SelectorError(
            column: String(decoding: bytes[..<min(position, bytes.count)], as: UTF8.self).count + 1,
            reason: reason
        )
    }
}
