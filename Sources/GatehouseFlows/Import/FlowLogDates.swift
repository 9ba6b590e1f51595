import Foundation

/// Times in flow logs: RFC 3339, with or without fractional seconds (Hubble writes nanoseconds,
/// which are cut to milliseconds here).
enum FlowLogDates {
    static func date(_ text: String) -> Date? {
        guard let date = parse(text), (0...13_569_465_600).contains(date.timeIntervalSince1970) else { return nil }
        return date
    }

    private static func parse(_ text: String) -> Date? {
        if let plain = try? Date(text, strategy: .iso8601) { return plain }
        guard let dot = text.firstIndex(of: "."),
            let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" })
        else { return nil }
        let fraction = String(text[text.index(after: dot)..<zone].prefix(3))
        let trimmed = text[..<dot] + "." + fraction.padding(toLength: 3, withPad: "0", startingAt: 0) + text[zone...]
        return try? Date(String(trimmed), strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
