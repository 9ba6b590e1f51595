import ArgumentParser
import Foundation

/// `--since` and `--until`: a duration ago (`90m`, `12h`, `7d`) or an RFC 3339 time.
struct TimeRangeOptions: ParsableArguments {
    @Option(help: "From this time: a duration ago (90m, 12h, 7d) or an RFC 3339 time.")
    var since: String?

    @Option(help: "Before this time: a duration ago or an RFC 3339 time.")
    var until: String?

    func validate() throws {
        for (flag, value) in [("--since", since), ("--until", until)] {
            if let value, TimeOption.date(value) == nil {
                throw ValidationError("\(flag) \(value): expected a duration (90m, 12h, 7d) or an RFC 3339 time")
            }
        }
    }

    var start: Date? { since.flatMap { TimeOption.date($0) } }
    var end: Date? { until.flatMap { TimeOption.date($0) } }
}
