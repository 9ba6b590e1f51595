import Logging

/// One request's log line: `request`, then `gatehouse.<field>=<value>` pairs in the order they are
/// added (who and what first, then how it went). Written as one piece of text rather than as swift-log
/// metadata: building a metadata dictionary per request, and the log handler sorting it, cost more than
/// everything else the line needs together.
struct RequestLogLine {
    private(set) var text = "request"

    init(requestID: String) {
        text.reserveCapacity(400)
        add("gatehouse.request.id", requestID)
    }

    /// Leaves the field out when `value` is nil.
    mutating func add(_ key: String, _ value: String?) {
        guard let value else { return }
        text.append(" ")
        text.append(key)
        text.append("=")
        text.append(value)
    }

    mutating func add(_ key: String, _ value: Int?) {
        guard let value else { return }
        add(key, String(value))
    }

    /// A duration in milliseconds with two decimals (`18.08`), rounded down.
    mutating func add(_ key: String, milliseconds duration: Duration) {
        let parts = duration.components
        let hundredths = parts.seconds * 100_000 + parts.attoseconds / 10_000_000_000_000
        let fraction = hundredths % 100
        // Piece by piece: an interpolated string would be made, and then copied in.
        add(key, String(hundredths / 100))
        text.append(fraction < 10 ? ".0" : ".")
        text.append(String(fraction))
    }

    var message: Logger.Message { Logger.Message(stringLiteral: text) }
}
