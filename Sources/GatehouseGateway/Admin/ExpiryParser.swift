import Foundation

/// Reads a key's expiry: an RFC 3339 time (`2027-01-01T00:00:00Z`) or a duration from now (`90m`,
/// `12h`, `30d`).
public enum ExpiryParser {
    public static func date(_ text: String, now: Date) -> Date? {
        let units: [(Character, Double)] = [("m", 60), ("h", 3600), ("d", 86_400)]
        if let last = text.last, let scale = units.first(where: { $0.0 == last })?.1,
            let value = Double(text.dropLast()), value > 0, value.isFinite
        {
            return now.addingTimeInterval(value * scale)
        }
        return try? Date(text, strategy: .iso8601)
    }
}
