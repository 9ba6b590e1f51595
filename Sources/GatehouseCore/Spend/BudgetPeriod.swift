/// How long a budget lasts before it starts again: calendar days, ISO weeks (from Monday) and months,
/// all in UTC, or the whole life of the budget.
public enum BudgetPeriod: String, Sendable, Hashable, Codable, CaseIterable {
    case day
    case week
    case month
    case total

    /// The window holding the instant `seconds` (Unix time): its start and its end (exclusive), in Unix
    /// seconds; `total` is one window from 0 to `Int64.max`.
    public func window(containing seconds: Int64) -> (start: Int64, end: Int64) {
        let day = Self.floorDivide(seconds, 86_400)
        switch self {
        case .day:
            return (day * 86_400, (day + 1) * 86_400)
        case .week:
            // 1970-01-01 was a Thursday: three days after a Monday.
            let monday = day - Self.floorModulo(day + 3, 7)
            return (monday * 86_400, (monday + 7) * 86_400)
        case .month:
            let (year, month, _) = Self.civil(fromDays: day)
            let first = Self.days(year: year, month: month, day: 1)
            let next =
                month == 12
                ? Self.days(year: year + 1, month: 1, day: 1) : Self.days(year: year, month: month + 1, day: 1)
            return (first * 86_400, next * 86_400)
        case .total:
            return (0, Int64.max)
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    private static func floorModulo(_ a: Int64, _ b: Int64) -> Int64 { a - floorDivide(a, b) * b }

    /// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `civil_from_days`).
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// A proleptic Gregorian date to days since 1970-01-01 (`days_from_civil`).
    private static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
