import ArgumentParser
import Foundation
import GatehouseCore

/// `--since` and `--until`: a duration ago (`90m`, `12h`, `7d`) or an RFC 3339 time.
struct TimeRangeOptions: ParsableArguments {
    @Option(help: "From this time: a duration ago (90m, 12h, 7d) or an RFC 3339 time.")
    var since: String?

    @Option(help: "Before this time: a duration ago or an RFC 3339 time.")
    var until: String?

    func validate() throws {
        for (flag, value) in [("--since", since), ("--until", until)] {
            if let value, Self.date(value) == nil {
                throw ValidationError("\(flag) \(value): expected a duration (90m, 12h, 7d) or an RFC 3339 time")
            }
        }
    }

    var start: Date? { since.flatMap { Self.date($0) } }
    var end: Date? { until.flatMap { Self.date($0) } }

    /// A duration reads as "that long ago"; an absolute time as itself.
    static func date(_ text: String, now: Date = Date()) -> Date? {
        TimeExpression.pastDate(text, now: now)
    }
}
