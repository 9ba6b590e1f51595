/// A fast parser for the YAML that Kubernetes tools write: block mappings and sequences, flow
/// collections (so JSON too), plain and quoted single-line scalars, comments and `---` documents.
///
/// Anything else (anchors, tags, block scalars, multi-line scalars, complex keys, tabs, CR, a syntax
/// error) makes it give up with `Unsupported`, and the caller parses the text with Yams (libyaml), which
/// handles all of YAML and words the errors. A differential test keeps both parsers' trees equal.
struct FastYAMLParser {
    struct Unsupported: Error {}

    private let bytes: [UInt8]
    private var position = 0
    private var line = 1
    private var lineStart = 0
    private var nodes = 0
    private var depth = 0

    init(_ text: String) { self.bytes = Array(text.utf8) }

    mutating func documents() throws(Unsupported) -> [ResourceValue] {
        var documents: [ResourceValue] = []
        while true {
            skipBlankLines()
            guard position < bytes.count else { break }
            if atMarker(UInt8(ascii: "-")) {
                position += 3
                try finishLine()
                continue
            }
            if atMarker(UInt8(ascii: ".")) {
                position += 3
                try finishLine()
                continue
            }
            let value = try blockNode(parentIndent: -1)
            if case .null = value.content {} else { documents.append(value) }
            skipBlankLines()
            guard position >= bytes.count || atMarker(UInt8(ascii: "-")) || atMarker(UInt8(ascii: ".")) else {
                throw Unsupported()
            }
        }
        return documents
    }

    // MARK: - Block structure

    /// The node that starts at the next content line, if it is indented deeper than the parent.
    private mutating func blockNode(parentIndent: Int) throws(Unsupported) -> ResourceValue {
        skipBlankLines()
        guard position < bytes.count, !atDocumentBoundary() else { return null() }
        let indent = indentOfLine()
        guard indent > parentIndent else { return null() }
        position = lineStart + indent
        return try nodeHere(indent: indent)
    }

    /// A node starting at the current position, whose column is `indent`.
    private mutating func nodeHere(indent: Int) throws(Unsupported) -> ResourceValue {
        depth += 1
        defer { depth -= 1 }
        guard depth <= NestingScan.maximumDepth else { throw Unsupported() }
        if isSequenceDash() { return try blockSequence(indent: indent) }
        if lineHasKey() { return try blockMapping(indent: indent) }
        let value = try inlineValue(indent: indent - 1)
        try finishLine()
        return value
    }

    private mutating func blockSequence(indent: Int) throws(Unsupported) -> ResourceValue {
        let (startLine, startColumn) = (line, column)
        var items: [ResourceValue] = []
        while true {
            try count()
            position += 1  // the dash
            skipSpaces()
            if atLineEnd() {
                try finishLine()
                items.append(try blockNode(parentIndent: indent))
            } else {
                items.append(try nodeHere(indent: column - 1))
            }
            guard try nextLine(atIndent: indent), isSequenceDash() else { break }
        }
        return ResourceValue(content: .sequence(items), line: startLine, column: startColumn)
    }

    private mutating func blockMapping(indent: Int) throws(Unsupported) -> ResourceValue {
        let (startLine, startColumn) = (line, column)
        var pairs: [(key: String, value: ResourceValue)] = []
        var keys: Set<String> = []
        while true {
            try count()
            let key = try mappingKey()
            guard keys.insert(key).inserted else { throw Unsupported() }
            skipSpaces()
            let value: ResourceValue
            if atLineEnd() {
                let emptyLine = line
                let emptyColumn = column
                try finishLine()
                skipBlankLines()
                if position < bytes.count, !atDocumentBoundary(), indentOfLine() == indent,
                    bytes[lineStart + indent] == UInt8(ascii: "-"), isDash(at: lineStart + indent)
                {
                    position = lineStart + indent
                    value = try blockSequence(indent: indent)
                } else {
                    let nested = try blockNode(parentIndent: indent)
                    if case .null = nested.content {
                        value = ResourceValue(content: .null, line: emptyLine, column: emptyColumn)
                    } else {
                        value = nested
                    }
                }
            } else {
                value = try inlineValue(indent: indent)
                try finishLine()
            }
            pairs.append((key, value))
            guard try nextLine(atIndent: indent) else { break }
            guard lineHasKey(), !isSequenceDash() else { throw Unsupported() }
        }
        return ResourceValue(content: .mapping(pairs), line: startLine, column: startColumn)
    }

    /// A block mapping key (plain or quoted) and its `:`.
    private mutating func mappingKey() throws(Unsupported) -> String {
        let key: String
        switch bytes[position] {
        case UInt8(ascii: "\""), UInt8(ascii: "'"): key = try quoted()
        default: key = try plain(flow: false, key: true)
        }
        skipSpaces()
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw Unsupported() }
        position += 1
        guard atLineEnd() || bytes[position] == UInt8(ascii: " ") else { throw Unsupported() }
        return key
    }

    /// A value written on the rest of the line: a flow collection or a scalar.
    /// `indent` is the column of the enclosing block: a deeper line after a plain scalar would continue it.
    private mutating func inlineValue(indent: Int) throws(Unsupported) -> ResourceValue {
        try count()
        let (startLine, startColumn) = (line, column)
        switch bytes[position] {
        case UInt8(ascii: "["), UInt8(ascii: "{"):
            return try flowNode()
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return ResourceValue(content: .scalar(try quoted(), plain: false), line: startLine, column: startColumn)
        default:
            let text = try plain(flow: false, key: false)
            if continues(after: position, deeperThan: indent) { throw Unsupported() }
            return scalar(text, line: startLine, column: startColumn)
        }
    }

    /// Moves to the next content line when it continues a block at `indent`: false when the block ends there
    /// (end of text, a document marker, or a shallower line); a deeper line is unsupported.
    private mutating func nextLine(atIndent indent: Int) throws(Unsupported) -> Bool {
        skipBlankLines()
        guard position < bytes.count, !atDocumentBoundary() else { return false }
        let next = indentOfLine()
        if next < indent { return false }
        guard next == indent else { throw Unsupported() }
        position = lineStart + next
        return true
    }

    // MARK: - Flow collections

    private mutating func flowNode() throws(Unsupported) -> ResourceValue {
        try count()
        depth += 1
        defer { depth -= 1 }
        guard depth <= NestingScan.maximumDepth else { throw Unsupported() }
        skipFlowSpace()
        guard position < bytes.count else { throw Unsupported() }
        let (startLine, startColumn) = (line, column)
        switch bytes[position] {
        case UInt8(ascii: "["):
            position += 1
            var items: [ResourceValue] = []
            skipFlowSpace()
            while position < bytes.count && bytes[position] != UInt8(ascii: "]") {
                items.append(try flowNode())
                try flowSeparator(closing: UInt8(ascii: "]"))
            }
            try flowClose()
            return ResourceValue(content: .sequence(items), line: startLine, column: startColumn)
        case UInt8(ascii: "{"):
            position += 1
            var pairs: [(key: String, value: ResourceValue)] = []
            var keys: Set<String> = []
            skipFlowSpace()
            while position < bytes.count && bytes[position] != UInt8(ascii: "}") {
                let key: String
                switch bytes[position] {
                case UInt8(ascii: "\""), UInt8(ascii: "'"): key = try quoted()
                default: key = try plain(flow: true, key: true)
                }
                guard keys.insert(key).inserted else { throw Unsupported() }
                skipSpaces()  // an implicit key and its ':' share a line
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw Unsupported() }
                position += 1
                guard position < bytes.count, [UInt8(ascii: " "), UInt8(ascii: "\n")].contains(bytes[position]) else {
                    throw Unsupported()
                }
                skipFlowSpace()
                guard position < bytes.count else { throw Unsupported() }
                let value: ResourceValue
                if bytes[position] == UInt8(ascii: ",") || bytes[position] == UInt8(ascii: "}") {
                    value = ResourceValue(content: .null, line: line, column: column)
                } else {
                    value = try flowNode()
                }
                pairs.append((key, value))
                try flowSeparator(closing: UInt8(ascii: "}"))
            }
            try flowClose()
            return ResourceValue(content: .mapping(pairs), line: startLine, column: startColumn)
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return ResourceValue(content: .scalar(try quoted(), plain: false), line: startLine, column: startColumn)
        default:
            return scalar(try plain(flow: true, key: false), line: startLine, column: startColumn)
        }
    }

    /// After a flow item: a comma (then spaces), or the closing bracket, which is left for `flowClose`.
    private mutating func flowSeparator(closing: UInt8) throws(Unsupported) {
        skipFlowSpace()
        guard position < bytes.count else { throw Unsupported() }
        if bytes[position] == UInt8(ascii: ",") {
            position += 1
            skipFlowSpace()
        } else if bytes[position] != closing {
            throw Unsupported()
        }
    }

    /// Consumes the closing bracket of a flow collection; the end of the text instead is unsupported.
    private mutating func flowClose() throws(Unsupported) {
        guard position < bytes.count else { throw Unsupported() }
        position += 1
    }

    // MARK: - Scalars

    private func scalar(_ text: String, line: Int, column: Int) -> ResourceValue {
        if ["~", "null", "Null", "NULL"].contains(text) {
            return ResourceValue(content: .null, line: line, column: column)
        }
        return ResourceValue(content: .scalar(text, plain: true), line: line, column: column)
    }

    /// A plain scalar on one line. Indicators that would start anything else are left to Yams.
    private mutating func plain(flow: Bool, key: Bool) throws(Unsupported) -> String {
        let start = position
        guard position < bytes.count else { throw Unsupported() }
        let first = bytes[position]
        switch first {
        case UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"),
            UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"), UInt8(ascii: ","),
            UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "\""),
            UInt8(ascii: "'"), UInt8(ascii: "\t"):
            throw Unsupported()
        case UInt8(ascii: "-"), UInt8(ascii: "?"), UInt8(ascii: ":"):
            // In block values these may start a plain scalar ("-1"); elsewhere libyaml's rules differ.
            guard !flow, !key, position + 1 < bytes.count, !isSpace(bytes[position + 1]),
                bytes[position + 1] != UInt8(ascii: "\n")
            else { throw Unsupported() }
        default:
            break
        }
        var end = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\n") { break }
            if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t") { throw Unsupported() }
            if byte == UInt8(ascii: ":") {
                let next = position + 1 < bytes.count ? bytes[position + 1] : UInt8(ascii: "\n")
                if isSpace(next) || next == UInt8(ascii: "\n") || (flow && isFlowIndicator(next)) {
                    if key { break }
                    throw Unsupported()
                }
            }
            if flow && isFlowIndicator(byte) { break }
            if byte == UInt8(ascii: "#") && position > start && isSpace(bytes[position - 1]) { break }
            position += 1
            if byte != UInt8(ascii: " ") { end = position }
        }
        guard end > start else { throw Unsupported() }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The single- or double-quoted scalar at the position.
    private mutating func quoted() throws(Unsupported) -> String {
        bytes[position] == UInt8(ascii: "'") ? try singleQuoted() : try doubleQuoted()
    }

    private mutating func singleQuoted() throws(Unsupported) -> String {
        position += 1
        var result: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { throw Unsupported() }
            if byte == UInt8(ascii: "'") {
                if position + 1 < bytes.count && bytes[position + 1] == UInt8(ascii: "'") {
                    result.append(byte)
                    position += 2
                    continue
                }
                position += 1
                return String(decoding: result, as: UTF8.self)
            }
            result.append(byte)
            position += 1
        }
        throw Unsupported()
    }

    private mutating func doubleQuoted() throws(Unsupported) -> String {
        position += 1
        var result: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                throw Unsupported()
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: result, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard position + 1 < bytes.count else { throw Unsupported() }
                let escape = bytes[position + 1]
                position += 2
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): result.append(escape)
                case UInt8(ascii: "n"): result.append(10)
                case UInt8(ascii: "t"): result.append(9)
                case UInt8(ascii: "r"): result.append(13)
                case UInt8(ascii: "b"): result.append(8)
                case UInt8(ascii: "f"): result.append(12)
                case UInt8(ascii: "0"): result.append(0)
                case UInt8(ascii: "u"):
                    guard position + 4 <= bytes.count,
                        let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16),
                        let scalar = Unicode.Scalar(value)
                    else { throw Unsupported() }
                    position += 4
                    result.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw Unsupported()
                }
            default:
                result.append(byte)
                position += 1
            }
        }
        throw Unsupported()
    }

    // MARK: - Lines and positions

    private var column: Int { position - lineStart + 1 }

    private func null() -> ResourceValue { ResourceValue(content: .null, line: line, column: column) }

    private mutating func count() throws(Unsupported) {
        nodes += 1
        if nodes > ResourceValue.maximumNodes { throw Unsupported() }
    }

    private func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") }

    private func isFlowIndicator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "[")
            || byte == UInt8(ascii: "{")
    }

    private func isDash(at index: Int) -> Bool {
        bytes[index] == UInt8(ascii: "-")
            && (index + 1 >= bytes.count || bytes[index + 1] == UInt8(ascii: " ")
                || bytes[index + 1] == UInt8(ascii: "\n"))
    }

    private func isSequenceDash() -> Bool { position < bytes.count && isDash(at: position) }

    /// Inside a flow collection: spaces, newlines and comments separate tokens.
    private mutating func skipFlowSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "):
                position += 1
            case UInt8(ascii: "\n"):
                newline()
            case UInt8(ascii: "#") where position == lineStart || bytes[position - 1] == UInt8(ascii: " "):
                while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
            default:
                return
            }
        }
    }

    private mutating func skipSpaces() {
        while position < bytes.count && bytes[position] == UInt8(ascii: " ") { position += 1 }
    }

    /// At the end of the line's content: a newline, the end, or a comment.
    private func atLineEnd() -> Bool {
        position >= bytes.count || bytes[position] == UInt8(ascii: "\n") || bytes[position] == UInt8(ascii: "#")
    }

    /// Skips trailing spaces and a comment, and the newline; anything else left on the line is unsupported.
    private mutating func finishLine() throws(Unsupported) {
        skipSpaces()
        if position < bytes.count && bytes[position] == UInt8(ascii: "#") {
            guard position == lineStart || bytes[position - 1] == UInt8(ascii: " ") else { throw Unsupported() }
            while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
        }
        guard position >= bytes.count || bytes[position] == UInt8(ascii: "\n") else { throw Unsupported() }
        if position < bytes.count { newline() }
    }

    private mutating func newline() {
        position += 1
        line += 1
        lineStart = position
    }

    /// Skips empty and comment-only lines, leaving the position at the start of a content line.
    private mutating func skipBlankLines() {
        // From the position (a line start, or the rest of a line), skip what holds only spaces or a comment.
        while position < bytes.count {
            var probe = position
            while probe < bytes.count && bytes[probe] == UInt8(ascii: " ") { probe += 1 }
            if probe < bytes.count && bytes[probe] != UInt8(ascii: "\n") && bytes[probe] != UInt8(ascii: "#") { return }
            while probe < bytes.count && bytes[probe] != UInt8(ascii: "\n") { probe += 1 }
            position = probe
            if position < bytes.count { newline() }
        }
    }

    private func indentOfLine() -> Int {
        var probe = lineStart
        while probe < bytes.count && bytes[probe] == UInt8(ascii: " ") { probe += 1 }
        return probe - lineStart
    }

    /// `---` or `...` alone at the start of a line.
    private func atMarker(_ byte: UInt8) -> Bool {
        let start = lineStart
        guard position == start || indentOfLine() == position - start, start + 3 <= bytes.count,
            bytes[start] == byte, bytes[start + 1] == byte, bytes[start + 2] == byte
        else { return false }
        return start + 3 == bytes.count || bytes[start + 3] == UInt8(ascii: "\n")
            || bytes[start + 3] == UInt8(ascii: " ")
    }

    private func atDocumentBoundary() -> Bool { atMarker(UInt8(ascii: "-")) || atMarker(UInt8(ascii: ".")) }

    /// Whether the current line holds `key:` at the position (a block mapping entry).
    private func lineHasKey() -> Bool {
        var probe = position
        guard probe < bytes.count else { return false }
        if bytes[probe] == UInt8(ascii: "\"") || bytes[probe] == UInt8(ascii: "'") {
            let quote = bytes[probe]
            probe += 1
            while probe < bytes.count && bytes[probe] != quote && bytes[probe] != UInt8(ascii: "\n") {
                probe += bytes[probe] == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") ? 2 : 1
            }
            guard probe < bytes.count, bytes[probe] == quote else { return false }
            probe += 1
            while probe < bytes.count && bytes[probe] == UInt8(ascii: " ") { probe += 1 }
            return probe < bytes.count && bytes[probe] == UInt8(ascii: ":")
                && (probe + 1 >= bytes.count || bytes[probe + 1] == UInt8(ascii: " ")
                    || bytes[probe + 1] == UInt8(ascii: "\n"))
        }
        if bytes[probe] == UInt8(ascii: "[") || bytes[probe] == UInt8(ascii: "{") { return false }
        while probe < bytes.count && bytes[probe] != UInt8(ascii: "\n") {
            if bytes[probe] == UInt8(ascii: "#") && probe > position && bytes[probe - 1] == UInt8(ascii: " ") {
                return false
            }
            if bytes[probe] == UInt8(ascii: ":")
                && (probe + 1 >= bytes.count || bytes[probe + 1] == UInt8(ascii: " ")
                    || bytes[probe + 1] == UInt8(ascii: "\n"))
            {
                return true
            }
            probe += 1
        }
        return false
    }

    /// Whether the next content line is indented deeper than `indent`: it would continue a plain scalar.
    private func continues(after end: Int, deeperThan indent: Int) -> Bool {
        var probe = end
        while probe < bytes.count {
            guard bytes[probe] == UInt8(ascii: "\n") else { return false }
            probe += 1
            var spaces = 0
            while probe < bytes.count && bytes[probe] == UInt8(ascii: " ") {
                probe += 1
                spaces += 1
            }
            guard probe < bytes.count else { return false }
            if bytes[probe] == UInt8(ascii: "\n") { continue }
            // A comment line ends a plain scalar; anything deeper than the block continues it.
            return bytes[probe] != UInt8(ascii: "#") && spaces > indent
        }
        return false
    }
}
