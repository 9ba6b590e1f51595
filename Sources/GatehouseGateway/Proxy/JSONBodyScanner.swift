import GatehouseCore

/// One pass over a request body that checks it is a single valid JSON object (RFC 8259, UTF-8,
/// nesting bounded), reads the top-level fields limits and accounting need (`model`, `stream`,
/// `max_tokens`, `n`, the number of `messages`, `tools` and `input`s, `stream_options.include_usage`),
/// and looks at every key at every depth for a refused one, without building a tree.
///
/// A top-level key given twice is refused: parsers disagree on which copy wins, and a gateway that
/// checks one `model` while the upstream serves the other would be bypassed.
struct JSONBodyScanner {
    enum Failure: Error, Equatable {
        case invalid
        case notAnObject
        case duplicateKey(String)
        /// A key that would choose the upstream or carry a credential (`api_base`, `base_url` ...).
        case refusedKey(String)
        /// A field of the wrong type: its name and what it must be.
        case wrongType(String, expected: String)
        case tooDeep
    }

    struct Fields: Equatable {
        var model: String?
        var stream: Bool?
        var maxTokens: Int?
        var maxCompletionTokens: Int?
        var n: Int?
        /// Completions only: candidates generated server-side, of which `n` are returned.
        var bestOf: Int?
        var messages: Int?
        var tools: Int?
        /// Embedding inputs: the length of an `input` array, or 1 for a string.
        var inputs: Int?
        /// Completion prompts: the length of a `prompt` list of texts or of token lists, or 1.
        var prompts: Int?
        /// Whether `stream_options` is present, and its `include_usage`.
        var hasStreamOptions = false
        var includeUsage: Bool?
        /// Where the members the gateway may set stand (`null` ones too), for `RequestBodyPatch`.
        var settable = RequestBodyPatch.Members()
        /// The offsets of the object's `{` and `}`.
        var objectBounds = 0..<0
    }

    static let maximumDepth = 64

    /// Keys refused anywhere, compared lowercased with `_` and `-` removed (and escapes resolved):
    /// fields that some servers and SDK proxies read as where to send the request, or with what key.
    static let refusedKeys: [String] = [
        "apibase", "baseurl", "apiurl", "apiendpoint", "endpointurl", "azureendpoint", "openaiapibase",
        "apihost", "serverurl", "upstreamurl", "proxyurl", "httpproxy", "httpsproxy", "customllmprovider",
        "apikey", "apiversion", "awsregionname", "vertexlocation", "vertexproject",
    ]
    private static let refusedKeyBytes = refusedKeys.map { Array($0.utf8) }

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    static func scan(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> Fields {
        // Plain ASCII (most bodies) is UTF-8 as it stands: no string is made to find that out.
        guard bytes.allSatisfy({ $0 < 0x80 }) || String(validating: bytes, as: UTF8.self) != nil else {
            throw .invalid
        }
        var scanner = JSONBodyScanner(bytes)
        scanner.skipWhitespace()
        guard scanner.peek == UInt8(ascii: "{") else {
            guard scanner.index < bytes.count else { throw .invalid }
            try scanner.value(depth: 0)
            scanner.skipWhitespace()
            throw scanner.index == bytes.count ? .notAnObject : .invalid
        }
        let fields = try scanner.topLevelObject()
        scanner.skipWhitespace()
        guard scanner.index == bytes.count else { throw .invalid }
        return fields
    }

    // MARK: Top level

    private mutating func topLevelObject() throws(Failure) -> Fields {
        var fields = Fields()
        let objectStart = index
        var seen: [TopLevelKey] = []
        seen.reserveCapacity(Self.keysComparedInPlace)
        // Past a few keys, a set: comparing each key with every earlier one is quadratic in the body.
        var seenSet: Set<[UInt8]> = []
        try elements(closedBy: UInt8(ascii: "}")) { scanner throws(Failure) in
            let keyStart = scanner.index
            let key = try scanner.topLevelKey()
            if scanner.withBytes(of: key, Self.isRefused) { throw .refusedKey(scanner.text(of: key)) }
            if seen.count < Self.keysComparedInPlace {
                for earlier in seen where scanner.same(earlier, key) { throw .duplicateKey(scanner.text(of: key)) }
                seen.append(key)
                if seen.count == Self.keysComparedInPlace {
                    for earlier in seen { seenSet.insert(scanner.withBytes(of: earlier) { Array($0) }) }
                }
            } else if !seenSet.insert(scanner.withBytes(of: key) { Array($0) }).inserted {
                throw .duplicateKey(scanner.text(of: key))
            }
            try scanner.colon()
            let name = scanner.name(of: key)
            defer {
                if let field = name.settable { fields.settable[field] = keyStart..<scanner.index }
            }
            if name.isOptional, scanner.literal("null") { return }
            switch name {
            case .model:
                guard scanner.peek == UInt8(ascii: "\"") else {
                    try scanner.value(depth: 1)
                    throw .wrongType("model", expected: "a string")
                }
                fields.model = try scanner.decodedString()
            case .stream:
                if scanner.literal("true") {
                    fields.stream = true
                } else if scanner.literal("false") {
                    fields.stream = false
                } else {
                    try scanner.value(depth: 1)
                    throw .wrongType("stream", expected: "true or false")
                }
            case .maxTokens:
                fields.maxTokens = try scanner.count(field: name.rawValue, minimum: 1)
            case .maxCompletionTokens:
                fields.maxCompletionTokens = try scanner.count(field: name.rawValue, minimum: 1)
            case .n:
                fields.n = try scanner.count(field: "n", minimum: 1, maximum: Self.mostChoices)
            case .bestOf:
                fields.bestOf = try scanner.count(field: "best_of", minimum: 1, maximum: Self.mostChoices)
            case .nPredict:
                // llama.cpp's server reads it before max_tokens: a bound the gateway did not reserve for.
                try scanner.value(depth: 1)
                throw .wrongType("n_predict", expected: "left out: max_tokens bounds the output")
            case .messages:
                fields.messages = try scanner.arrayLength(field: "messages")
            case .tools:
                fields.tools = try scanner.arrayLength(field: "tools")
            case .prompt:
                fields.prompts = try scanner.promptCount()
            case .input:
                if scanner.peek == UInt8(ascii: "[") {
                    fields.inputs = try scanner.arrayLength(field: "input")
                } else {
                    fields.inputs = 1
                    try scanner.value(depth: 1)
                }
            case .streamOptions:
                fields.hasStreamOptions = true
                fields.includeUsage = try scanner.streamOptions()
            case .other:
                try scanner.value(depth: 1)
            }
        }
        fields.objectBounds = objectStart..<(index - 1)
        return fields
    }

    /// The most choices `n` or `best_of` may ask for: OpenAI's limit on `n`, and what keeps the output
    /// bound (`max_tokens` × `n` × `best_of`) far from overflowing.
    static let mostChoices = 128

    /// Top-level keys checked for duplicates by comparison before a set takes over.
    private static let keysComparedInPlace = 16

    /// A top-level key: where its text stands when it has no escapes (no copy), or its decoded bytes.
    private enum TopLevelKey {
        case raw(Range<Int>)
        case decoded([UInt8])
    }

    private mutating func topLevelKey() throws(Failure) -> TopLevelKey {
        let start = index
        guard try skipString() else { return .raw((start + 1)..<(index - 1)) }
        index = start
        return .decoded(Array(try escapedString().utf8))
    }

    private func withBytes<T>(of key: TopLevelKey, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        switch key {
        case .raw(let range): return body(UnsafeRawBufferPointer(rebasing: bytes[range]))
        case .decoded(let text): return text.withUnsafeBytes(body)
        }
    }

    private func same(_ lhs: TopLevelKey, _ rhs: TopLevelKey) -> Bool {
        withBytes(of: lhs) { left in withBytes(of: rhs) { right in left.elementsEqual(right) } }
    }

    private func text(of key: TopLevelKey) -> String {
        withBytes(of: key) { String(decoding: $0, as: UTF8.self) }
    }

    private enum KeyName: String, CaseIterable {
        case model
        case stream
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case n
        case bestOf = "best_of"
        case nPredict = "n_predict"
        case messages
        case tools
        case input
        case prompt
        case streamOptions = "stream_options"
        case other = ""

        /// Fields clients send as `null` to mean "not given".
        var isOptional: Bool { self != .model && self != .other && self != .nPredict }

        /// The member a `RequestBodyPatch` may replace.
        var settable: RequestBodyPatch.Field? {
            switch self {
            case .model: .model
            case .maxTokens: .maxTokens
            case .maxCompletionTokens: .maxCompletionTokens
            case .streamOptions: .streamOptions
            default: nil
            }
        }
    }

    private static let keyNames = KeyName.allCases.dropLast().map { ($0, Array($0.rawValue.utf8)) }

    /// Which of the keys the gateway reads this is, without making a string of every key.
    private func name(of key: TopLevelKey) -> KeyName {
        withBytes(of: key) { text in
            for (name, bytes) in Self.keyNames where text.elementsEqual(bytes) { return name }
            return .other
        }
    }

    /// A whole number of at least `minimum` (and at most `maximum`) that fits a count (`max_tokens`, `n`).
    private mutating func count(field: String, minimum: Int, maximum: Int = 999_999_999) throws(Failure) -> Int {
        let start = index
        try value(depth: 1)
        let text = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
        guard !text.isEmpty, text.count <= 9, text.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { throw .wrongType(field, expected: "a whole number") }
        let count = text.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard count >= minimum else { throw .wrongType(field, expected: "at least \(minimum)") }
        guard count <= maximum else { throw .wrongType(field, expected: "at most \(maximum)") }
        return count
    }

    /// The number of elements of an array (its elements checked as usual).
    private mutating func arrayLength(field: String) throws(Failure) -> Int {
        guard peek == UInt8(ascii: "[") else {
            try value(depth: 1)
            throw .wrongType(field, expected: "an array")
        }
        var length = 0
        try elements(closedBy: UInt8(ascii: "]")) { scanner throws(Failure) in
            length += 1
            try scanner.value(depth: 2)
        }
        return length
    }

    /// A completion's prompts: each text or token list of a `prompt` list; one for a text, or for a list
    /// of token ids.
    private mutating func promptCount() throws(Failure) -> Int {
        guard peek == UInt8(ascii: "[") else {
            try value(depth: 1)
            return 1
        }
        var prompts = 0
        try elements(closedBy: UInt8(ascii: "]")) { scanner throws(Failure) in
            if scanner.peek == UInt8(ascii: "\"") || scanner.peek == UInt8(ascii: "[") { prompts += 1 }
            try scanner.value(depth: 2)
        }
        return max(prompts, 1)
    }

    /// `stream_options`: an object; returns its `include_usage` when that is a boolean.
    private mutating func streamOptions() throws(Failure) -> Bool? {
        guard peek == UInt8(ascii: "{") else {
            try value(depth: 1)
            throw .wrongType("stream_options", expected: "an object")
        }
        var includeUsage: Bool?
        try elements(closedBy: UInt8(ascii: "}")) { scanner throws(Failure) in
            let start = scanner.index
            try scanner.checkedKey()
            let key = UnsafeRawBufferPointer(rebasing: scanner.bytes[start..<scanner.index])
            try scanner.colon()
            if key.elementsEqual("\"include_usage\"".utf8) {
                if scanner.literal("true") {
                    includeUsage = true
                    return
                }
                if scanner.literal("false") {
                    includeUsage = false
                    return
                }
            }
            try scanner.value(depth: 2)
        }
        return includeUsage
    }

    /// `open element (, element)* close` or `open close`, whitespace allowed between tokens; the
    /// opening bracket is at the current index.
    private mutating func elements(
        closedBy close: UInt8,
        _ element: (inout JSONBodyScanner) throws(Failure) -> Void
    ) throws(Failure) {
        index += 1
        skipWhitespace()
        if peek == close {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            guard peek == UInt8(ascii: ",") else { break }
            index += 1
        }
        try expect(close)
    }

    private mutating func colon() throws(Failure) {
        skipWhitespace()
        try expect(UInt8(ascii: ":"))
        skipWhitespace()
    }

    // MARK: Values

    private mutating func value(depth: Int) throws(Failure) {
        guard depth < Self.maximumDepth else { throw .tooDeep }
        switch peek {
        case UInt8(ascii: "{"):
            try elements(closedBy: UInt8(ascii: "}")) { scanner throws(Failure) in
                try scanner.checkedKey()
                try scanner.colon()
                try scanner.value(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            try elements(closedBy: UInt8(ascii: "]")) { scanner throws(Failure) in try scanner.value(depth: depth + 1) }
        case UInt8(ascii: "\""):
            try skipString()
        case UInt8(ascii: "t"):
            guard literal("true") else { throw .invalid }
        case UInt8(ascii: "f"):
            guard literal("false") else { throw .invalid }
        case UInt8(ascii: "n"):
            guard literal("null") else { throw .invalid }
        default:
            try number()
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    private mutating func number() throws(Failure) {
        if peek == UInt8(ascii: "-") { index += 1 }
        if peek == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() > 0 else { throw .invalid }
        }
        if peek == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw .invalid }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw .invalid }
        }
    }

    private mutating func digits() -> Int {
        let start = index
        while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    // MARK: Strings

    /// Reads an object key and refuses it when it is one of `refusedKeys`.
    private mutating func checkedKey() throws(Failure) {
        let start = index
        if try skipString() {
            index = start
            let key = try escapedString()
            if Self.isRefused(key.utf8) { throw .refusedKey(key) }
        } else {
            let raw = UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(index - 1)])
            if Self.isRefused(raw) { throw .refusedKey(String(decoding: raw, as: UTF8.self)) }
        }
    }

    /// Whether `key`, lowercased and without `_` and `-`, is a refused key. No allocation.
    private static func isRefused(_ key: some Collection<UInt8>) -> Bool {
        guard key.count <= 64 else { return false }
        for refused in refusedKeyBytes {
            var position = refused.startIndex
            var matches = true
            for byte in key where byte != UInt8(ascii: "_") && byte != UInt8(ascii: "-") {
                let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                guard position < refused.endIndex, refused[position] == lower else {
                    matches = false
                    break
                }
                position += 1
            }
            if matches && position == refused.endIndex { return true }
        }
        return false
    }

    /// Skips a string, checking its escapes and that it holds no control characters; returns whether
    /// it had escapes.
    @discardableResult
    private mutating func skipString() throws(Failure) -> Bool {
        var escaped = false
        try expect(UInt8(ascii: "\""))
        while let byte = peek {
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return escaped
            case UInt8(ascii: "\\"):
                escaped = true
                _ = try escape()
            case 0..<0x20:
                throw .invalid
            default:
                continue
            }
        }
        throw .invalid
    }

    /// Reads a string with its escapes resolved (one without escapes is made from its bytes at once).
    private mutating func decodedString() throws(Failure) -> String {
        let start = index
        guard try skipString() else {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<(index - 1)]), as: UTF8.self)
        }
        index = start
        return try escapedString()
    }

    private mutating func escapedString() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""))
        var scalars = String.UnicodeScalarView()
        var plainStart = index
        while let byte = peek {
            switch byte {
            case UInt8(ascii: "\""):
                scalars.append(contentsOf: plain(from: plainStart))
                index += 1
                return String(scalars)
            case UInt8(ascii: "\\"):
                scalars.append(contentsOf: plain(from: plainStart))
                index += 1
                scalars.append(try escape())
                plainStart = index
            case 0..<0x20:
                throw .invalid
            default:
                index += 1
            }
        }
        throw .invalid
    }

    private func plain(from start: Int) -> String.UnicodeScalarView {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self).unicodeScalars
    }

    /// The character after a backslash (already consumed).
    private mutating func escape() throws(Failure) -> Unicode.Scalar {
        guard let byte = peek else { throw .invalid }
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{8}"
        case UInt8(ascii: "f"): return "\u{c}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try hex4()
            if (0xD800..<0xDC00).contains(unit), peek == UInt8(ascii: "\\"),
                index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
            {
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw .invalid }
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) ?? "\u{FFFD}"
            }
            return Unicode.Scalar(unit) ?? "\u{FFFD}"
        default:
            throw .invalid
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        guard index + 4 <= bytes.count else { throw .invalid }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = bytes[index].hexDigitValue else { throw .invalid }
            index += 1
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    // MARK: Bytes

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipWhitespace() {
        while let byte = peek, Self.isWhitespace(byte) { index += 1 }
    }

    /// JSON's insignificant whitespace (RFC 8259 §2).
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\t")
    }

    private mutating func expect(_ byte: UInt8) throws(Failure) {
        guard peek == byte else { throw .invalid }
        index += 1
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }
}
