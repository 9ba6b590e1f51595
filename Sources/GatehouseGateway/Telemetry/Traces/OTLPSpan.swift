/// One finished span as OTLP carries it: ids, name, kind, times, attributes and status.
struct OTLPSpan: Sendable, Equatable {
    /// OTLP's `SpanKind`.
    enum Kind: UInt64, Sendable {
        case `internal` = 1
        case server = 2
        case client = 3
    }

    /// OTLP's `AnyValue`, the kinds the gateway writes.
    enum Value: Sendable, Equatable {
        case string(String)
        case bool(Bool)
        case int(Int64)
        case double(Double)
        case strings([String])
    }

    var context: TraceContext
    var parentSpanID: UInt64?
    var name: String
    var kind: Kind
    var startNanoseconds: UInt64
    var endNanoseconds: UInt64
    var attributes: [(String, Value)] = []
    /// Set for a span that ended in error: the description OTLP's `Status.message` carries.
    var error: String?

    init(
        context: TraceContext,
        parentSpanID: UInt64?,
        name: String,
        kind: Kind,
        startNanoseconds: UInt64,
        endNanoseconds: UInt64
    ) {
        self.context = context
        self.parentSpanID = parentSpanID
        self.name = name
        self.kind = kind
        self.startNanoseconds = startNanoseconds
        self.endNanoseconds = max(endNanoseconds, startNanoseconds)
    }

    mutating func set(_ key: String, _ value: Value?) {
        if let value { attributes.append((key, value)) }
    }

    static func == (lhs: OTLPSpan, rhs: OTLPSpan) -> Bool {
        lhs.context == rhs.context && lhs.parentSpanID == rhs.parentSpanID && lhs.name == rhs.name
            && lhs.kind == rhs.kind && lhs.startNanoseconds == rhs.startNanoseconds
            && lhs.endNanoseconds == rhs.endNanoseconds && lhs.error == rhs.error
            && lhs.attributes.elementsEqual(rhs.attributes) { $0.0 == $1.0 && $0.1 == $1.1 }
    }
}
