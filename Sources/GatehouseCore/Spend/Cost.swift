/// An amount of money in US dollars, kept exactly as an integer count of picodollars (10⁻¹² USD) so
/// that prices per million tokens multiply into costs without rounding.
public struct Cost: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var picodollars: Int64

    public init(picodollars: Int64) { self.picodollars = picodollars }

    public static let zero = Cost(picodollars: 0)
    /// The largest amount the ledger holds (about nine million dollars).
    public static let maximum = Cost(picodollars: Int64.max / 4)

    /// Parses a decimal dollar amount such as `100`, `2.5` or `0.000150` (at most 12 decimals, not
    /// negative, at most `maximum`); nil for anything else.
    public init?(dollars text: some StringProtocol) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, !whole.isEmpty, whole.utf8.count <= 7, whole.allSatisfy(\.isASCIIDigit),
            let units = Int64(whole)
        else { return nil }
        var fraction: Int64 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.utf8.count <= 12, digits.allSatisfy(\.isASCIIDigit),
                let value = Int64(digits)
            else { return nil }
            var scale: Int64 = 1
            for _ in digits.utf8.count..<12 { scale *= 10 }
            fraction = value * scale
        }
        self.init(picodollars: units * 1_000_000_000_000 + fraction)
    }

    /// The cost of `tokens` at `pricePerMillion` (a price per million tokens), saturating at `maximum`.
    public static func of(tokens: Int, pricePerMillion: Cost) -> Cost {
        // A price per million tokens in picodollars is a price per token in micro-picodollars.
        let (product, overflow) = Int64(max(tokens, 0)).multipliedReportingOverflow(by: pricePerMillion.picodollars)
        guard !overflow else { return .maximum }
        return min(Cost(picodollars: (product + 999_999) / 1_000_000), .maximum)
    }

    public static func + (lhs: Cost, rhs: Cost) -> Cost {
        Cost(picodollars: min(lhs.picodollars &+ rhs.picodollars, maximum.picodollars))
    }

    public static func - (lhs: Cost, rhs: Cost) -> Cost { Cost(picodollars: max(lhs.picodollars - rhs.picodollars, 0)) }

    public static func < (lhs: Cost, rhs: Cost) -> Bool { lhs.picodollars < rhs.picodollars }

    public static func += (lhs: inout Cost, rhs: Cost) { lhs = lhs + rhs }

    public static func -= (lhs: inout Cost, rhs: Cost) { lhs = lhs - rhs }

    /// `count` times the cost, saturating at `maximum`.
    public static func * (lhs: Cost, count: Int) -> Cost {
        let (product, overflow) = lhs.picodollars.multipliedReportingOverflow(by: Int64(max(count, 0)))
        return overflow ? .maximum : min(Cost(picodollars: product), .maximum)
    }

    /// Encoded as an exact decimal dollar string (`"0.00015"`), never a float.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let cost = Cost(dollars: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a dollar amount: \(text)")
        }
        self = cost
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(exactDollars)
    }

    /// Every digit that matters, trailing zeros dropped: `12.5`, `0.00015`, `3`.
    public var exactDollars: String {
        let sign = picodollars < 0 ? "-" : ""
        let whole = picodollars.magnitude / 1_000_000_000_000
        var fraction = picodollars.magnitude % 1_000_000_000_000
        guard fraction > 0 else { return sign + String(whole) }
        var decimals = 12
        while fraction % 10 == 0 {
            fraction /= 10
            decimals -= 1
        }
        let digits = String(fraction)
        return "\(sign)\(whole)." + String(repeating: "0", count: decimals - digits.count) + digits
    }

    /// Dollars as a floating-point number, for metrics only (never for accounting).
    public var approximateDollars: Double { Double(picodollars) / 1e12 }

    /// Dollars with six decimals, as listings show them: `$12.345678`.
    public var description: String { "$" + dollars(decimals: 6) }

    /// Dollars with `decimals` decimals (rounded up, so a tiny cost never shows as nothing).
    public func dollars(decimals: Int = 12) -> String {
        var divisor: Int64 = 1
        for _ in decimals..<12 { divisor *= 10 }
        let scaled = (picodollars + divisor - 1) / divisor
        var unit: Int64 = 1
        for _ in 0..<decimals { unit *= 10 }
        let fraction = String(scaled % unit)
        let padded = String(repeating: "0", count: decimals - fraction.count) + fraction
        return decimals == 0 ? "\(scaled / unit)" : "\(scaled / unit).\(padded)"
    }
}
