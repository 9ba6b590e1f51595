import NIOCore

/// Top-level fields the gateway sets on a request body before it is forwarded: the model's name on an
/// upstream that knows it by another, the output bound it reserved for, and `stream_options` to have
/// usage reported. A field the gateway sets replaces the caller's member of that name, `null` ones
/// included: two members of one name would let the upstream read either.
///
/// Works on the bytes and the members' offsets that `JSONBodyScanner` noted, in one pass, without
/// parsing the body again.
struct RequestBodyPatch: Sendable {
    enum Field: String, Sendable {
        case model
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case streamOptions = "stream_options"
    }

    /// Where the settable members stand in a body, each from its key's opening quote to its value's end.
    /// A body holds each at most once (the scanner refuses a key given twice), so four places do, and no
    /// array is made per request.
    struct Members: Sendable, Equatable {
        var model: Range<Int>?
        var maxTokens: Range<Int>?
        var maxCompletionTokens: Range<Int>?
        var streamOptions: Range<Int>?

        subscript(field: Field) -> Range<Int>? {
            get {
                switch field {
                case .model: model
                case .maxTokens: maxTokens
                case .maxCompletionTokens: maxCompletionTokens
                case .streamOptions: streamOptions
                }
            }
            set {
                switch field {
                case .model: model = newValue
                case .maxTokens: maxTokens = newValue
                case .maxCompletionTokens: maxCompletionTokens = newValue
                case .streamOptions: streamOptions = newValue
                }
            }
        }
    }

    /// The members to write, as field and JSON value, in order.
    private(set) var values: [(field: Field, json: String)] = []
    /// Caller members to take out without writing their field (`max_completion_tokens` where only
    /// `max_tokens` bounds the answer).
    private(set) var removed: [Field] = []

    var isEmpty: Bool { values.isEmpty && removed.isEmpty }

    mutating func set(_ field: Field, json: String) {
        values.removeAll { $0.field == field }
        values.append((field, json))
    }

    mutating func remove(_ field: Field) { removed.append(field) }

    /// The body with the patch applied. `members` and `object` (the offsets of `{` and `}`) are those the
    /// scanner found in `body`.
    func applied(to body: ByteBuffer, members: Members, object: Range<Int>) -> ByteBuffer {
        guard !isEmpty else { return body }
        let dropped = (removed + values.map(\.field)).compactMap { members[$0] }.sorted {
            $0.lowerBound < $1.lowerBound
        }
        var output = ByteBuffer()
        output.reserveCapacity(body.readableBytes + values.reduce(0) { $0 + $1.json.utf8.count + 24 })
        let view = body.readableBytesView
        let base = view.startIndex
        output.writeBytes(view[base..<(base + object.lowerBound + 1)])
        var separated = false
        for (field, json) in values {
            if separated { output.writeInteger(UInt8(ascii: ",")) }
            output.writeInteger(UInt8(ascii: "\""))
            output.writeString(field.rawValue)
            output.writeString("\":")
            output.writeString(json)
            separated = true
        }
        // The kept text between dropped members is whole members and the separators around them: with
        // the separators at its ends trimmed, it is a list of members again.
        var cursor = object.lowerBound + 1
        for range in dropped + [object.upperBound..<object.upperBound] {
            var start = cursor
            var end = range.lowerBound
            while start < end, Self.isSeparator(view[base + start]) { start += 1 }
            while end > start, Self.isSeparator(view[base + end - 1]) { end -= 1 }
            if start < end {
                if separated { output.writeInteger(UInt8(ascii: ",")) }
                output.writeBytes(view[(base + start)..<(base + end)])
                separated = true
            }
            cursor = range.upperBound
        }
        output.writeBytes(view[(base + object.upperBound)...])
        return output
    }

    private static func isSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || JSONBodyScanner.isWhitespace(byte)
    }
}
