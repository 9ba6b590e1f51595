/// Writes OTLP's `ExportTraceServiceRequest` in protobuf's wire format, by hand: the messages are few
/// and fixed (opentelemetry-proto `collector/trace/v1`, `trace/v1`, `common/v1`, `resource/v1`), and
/// generated code would bring swift-protobuf's build and runtime for a few dozen lines.
enum OTLPTraceEncoder {
    /// One resource (the gateway, named `serviceName`), one instrumentation scope, and `spans`.
    static func request(spans: [OTLPSpan], serviceName: String, version: String) -> [UInt8] {
        var resource = Message()
        resource.message(1, attribute("service.name", .string(serviceName)))
        resource.message(1, attribute("service.version", .string(version)))
        var scope = Message()
        scope.string(1, "gatehouse")
        scope.string(2, version)
        var scopeSpans = Message()
        scopeSpans.message(1, scope)
        for span in spans { scopeSpans.message(2, encode(span)) }
        var resourceSpans = Message()
        resourceSpans.message(1, resource)
        resourceSpans.message(2, scopeSpans)
        var request = Message()
        request.message(1, resourceSpans)
        return request.bytes
    }

    private static func encode(_ span: OTLPSpan) -> Message {
        var message = Message()
        message.bytes(1, bigEndian: [span.context.traceHigh, span.context.traceLow])
        message.bytes(2, bigEndian: [span.context.spanID])
        if let parent = span.parentSpanID { message.bytes(4, bigEndian: [parent]) }
        message.string(5, span.name)
        message.varint(6, span.kind.rawValue)
        message.fixed64(7, span.startNanoseconds)
        message.fixed64(8, span.endNanoseconds)
        for (key, value) in span.attributes { message.message(9, attribute(key, value)) }
        if let error = span.error {
            var status = Message()
            status.string(2, error)
            status.varint(3, 2)  // STATUS_CODE_ERROR
            message.message(15, status)
        }
        // Flags: the W3C trace flags in the low byte.
        message.fixed32(16, span.context.sampled ? 1 : 0)
        return message
    }

    private static func attribute(_ key: String, _ value: OTLPSpan.Value) -> Message {
        var pair = Message()
        pair.string(1, key)
        pair.message(2, anyValue(value))
        return pair
    }

    private static func anyValue(_ value: OTLPSpan.Value) -> Message {
        var any = Message()
        switch value {
        case .string(let text): any.string(1, text)
        case .bool(let flag): any.varint(2, flag ? 1 : 0)
        case .int(let number): any.varint(3, UInt64(bitPattern: number))
        case .double(let number): any.fixed64(4, number.bitPattern)
        case .strings(let texts):
            var array = Message()
            for text in texts { array.message(1, anyValue(.string(text))) }
            any.message(5, array)
        }
        return any
    }

    /// A message being written: fields appended in the order given.
    private struct Message {
        var bytes: [UInt8] = []

        mutating func varint(_ field: UInt64, _ value: UInt64) {
            tag(field, wireType: 0)
            append(varint: value)
        }

        mutating func fixed64(_ field: UInt64, _ value: UInt64) {
            tag(field, wireType: 1)
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }

        mutating func fixed32(_ field: UInt64, _ value: UInt32) {
            tag(field, wireType: 5)
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
        }

        mutating func string(_ field: UInt64, _ text: String) {
            lengthDelimited(field, Array(text.utf8))
        }

        /// Ids: the words' bytes, most significant first.
        mutating func bytes(_ field: UInt64, bigEndian words: [UInt64]) {
            var data: [UInt8] = []
            for word in words {
                for shift in stride(from: 56, through: 0, by: -8) {
                    data.append(UInt8(truncatingIfNeeded: word >> shift))
                }
            }
            lengthDelimited(field, data)
        }

        mutating func message(_ field: UInt64, _ inner: Message) {
            lengthDelimited(field, inner.bytes)
        }

        private mutating func lengthDelimited(_ field: UInt64, _ data: [UInt8]) {
            tag(field, wireType: 2)
            append(varint: UInt64(data.count))
            bytes += data
        }

        private mutating func tag(_ field: UInt64, wireType: UInt64) {
            append(varint: field << 3 | wireType)
        }

        private mutating func append(varint value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }
    }
}
