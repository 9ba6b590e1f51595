import GatehouseCore
import Testing

/// Money, budget windows and the token estimate: exact, calendar-true, documented.
@Suite struct SpendValueTests {
    @Test func dollarAmountsParseExactlyAndRefuseAnythingElse() {
        #expect(Cost(dollars: "2.50")?.picodollars == 2_500_000_000_000)
        #expect(Cost(dollars: "0.000000000001")?.picodollars == 1)
        #expect(Cost(dollars: "100")?.exactDollars == "100")
        #expect(Cost(dollars: "0.00015")?.exactDollars == "0.00015")
        #expect(Cost.zero.exactDollars == "0")
        #expect(Cost(picodollars: 1).exactDollars == "0.000000000001")
        #expect(Cost(picodollars: 12_500_000_000_000).exactDollars == "12.5")
        #expect(Cost(picodollars: 3_000_001_000_000).exactDollars == "3.000001")
        // A negative amount (never made by arithmetic, which saturates; only read from a damaged store) is
        // written as one, down to the smallest.
        #expect(Cost(picodollars: -1_500_000_000_000).exactDollars == "-1.5")
        #expect(Cost(picodollars: .min).exactDollars == "-9223372.036854775808")
        // Every amount reads back as itself.
        for picodollars: Int64 in [7, 10, 999_999_999_999, 1_000_000_000_000, 1_000_000_000_010, 123_456_789_012_345] {
            let cost = Cost(picodollars: picodollars)
            #expect(Cost(dollars: cost.exactDollars) == cost, "\(picodollars)")
        }
        for bad in ["", "-1", "1.", ".5", "1e3", "0.0000000000001", "1,5", "12345678", " 1", "NaN"] {
            #expect(Cost(dollars: bad) == nil, "\(bad)")
        }
        #expect(Cost(dollars: "1.5")!.description == "$1.500000")
        // A tiny cost never shows as nothing.
        #expect(Cost(picodollars: 1).description == "$0.000001")
    }

    @Test func tokenCostsRoundUpAndSaturate() {
        let perMillion = Cost(dollars: "0.15")!
        #expect(Cost.of(tokens: 1_000_000, pricePerMillion: perMillion) == perMillion)
        #expect(Cost.of(tokens: 1, pricePerMillion: perMillion).picodollars == 150_000)
        #expect(Cost.of(tokens: 1, pricePerMillion: Cost(picodollars: 1)).picodollars == 1)
        #expect(Cost.of(tokens: Int.max, pricePerMillion: Cost(dollars: "1000")!) == .maximum)
        #expect(Cost.zero - Cost(picodollars: 5) == .zero)
    }

    @Test func budgetWindowsFollowTheUTCCalendar() {
        // 2026-11-27T12:00:00Z, a Friday.
        let noon: Int64 = 1_795_780_800
        #expect(BudgetPeriod.day.window(containing: noon) == (1_795_737_600, 1_795_824_000))
        // The ISO week starts on Monday 2026-11-23.
        #expect(BudgetPeriod.week.window(containing: noon) == (1_795_392_000, 1_795_996_800))
        // November 2026; December starts on the 1st.
        #expect(BudgetPeriod.month.window(containing: noon) == (1_793_491_200, 1_796_083_200))
        // February of a leap year has 29 days: 2028-02-01 to 2028-03-01.
        #expect(BudgetPeriod.month.window(containing: 1_833_000_000) == (1_832_976_000, 1_835_481_600))
        #expect(BudgetPeriod.total.window(containing: noon) == (0, Int64.max))
    }

    @Test func tokenEstimateFollowsTheDocumentedMethod() {
        #expect(TokenEstimator.count(Array("".utf8)) == 0)
        // "Hello" (5 letters: 2), "," (1), "world" (2), "!" (1).
        #expect(TokenEstimator.count(Array("Hello, world!".utf8)) == 6)
        // Digits count one per three: 1234567 -> 3.
        #expect(TokenEstimator.count(Array("1234567".utf8)) == 3)
        #expect(TokenEstimator.count(Array("a b c".utf8)) == 3)
    }
}
