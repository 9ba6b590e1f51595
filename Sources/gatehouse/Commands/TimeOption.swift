import Foundation
import GatehouseGateway

/// A point in time on the command line: a duration ago (`90m`, `12h`, `7d`) or an RFC 3339 time.
enum TimeOption {
    static func date(_ text: String, now: Date = Date()) -> Date? {
        guard let date = ExpiryParser.date(text, now: now) else { return nil }
        // A duration reads as "that long ago"; an absolute time as itself.
        return date > now ? now.addingTimeInterval(-date.timeIntervalSince(now)) : date
    }
}
