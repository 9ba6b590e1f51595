import Foundation

/// A time as users write it on the command line and in query parameters: an RFC 3339 time
/// (`2027-01-01T00:00:00Z`) or a duration (`30s`, `90m`, `12h`, `30d`).
public enum TimeExpression {
    /// A duration from `now` forward (a key's expiry), or an absolute time.
    public static func date(_ text: String, now: Date) -> Date? {
        if let seconds = seconds(text) { return now.addingTimeInterval(seconds) }
        return try? Date(text, strategy: .iso8601)
    }

    /// A duration ago (`--since 1h`), or an absolute time.
    public static func pastDate(_ text: String, now: Date) -> Date? {
        if let seconds = seconds(text) { return now.addingTimeInterval(-seconds) }
        return try? Date(text, strategy: .iso8601)
    }

    /// The longest duration read: a hundred years.
    static let maximumSeconds: Double = 100 * 365.25 * 86_400

    private static func seconds(_ text: String) -> Double? {
        let units: [(Character, Double)] = [("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        guard let last = text.last, let scale = units.first(where: { $0.0 == last })?.1,
            let value = Double(text.dropLast()), value > 0, value.isFinite, value * scale <= maximumSeconds
        else { return nil }
        return value * scale
    }
}
