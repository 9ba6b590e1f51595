import GatehouseCore
import Testing

/// The per-minute allowance: at most its capacity in any window, wherever the window starts.
@Suite struct WindowAllowanceTests {
    /// Takes one unit whenever it fits, every `step` seconds for `seconds`, and returns the times taken.
    static func takeWheneverItFits(_ allowance: inout WindowAllowance, seconds: Double, step: Double) -> [Double] {
        var taken: [Double] = []
        var now = 0.0
        while now < seconds {
            allowance.expire(now: now)
            if allowance.wait(for: 1, now: now) == 0 {
                allowance.take(1, now: now)
                taken.append(now)
            }
            now += step
        }
        return taken
    }

    @Test func noMinuteEverHoldsMoreThanTheCapacity() {
        var allowance = WindowAllowance(capacity: 600)
        let taken = Self.takeWheneverItFits(&allowance, seconds: 300, step: 0.01)
        // A token bucket of 600 a minute would admit 1,200 in the first minute.
        var most = 0
        var start = 0
        for end in taken.indices {
            while taken[end] - taken[start] >= 60 { start += 1 }
            most = max(most, end - start + 1)
        }
        #expect(most == 600)
        // And it is an allowance, not a trickle: five minutes admit five times the capacity.
        #expect(taken.count == 3000)
    }

    @Test func waitNamesWhenTheOldestEntriesLeave() {
        var allowance = WindowAllowance(capacity: 3)
        allowance.take(1, now: 0)
        allowance.take(2, now: 10)
        #expect(allowance.wait(for: 1, now: 20) == 40)
        #expect(allowance.wait(for: 3, now: 20) == 50)
        #expect(allowance.wait(for: 4, now: 20) == .infinity)
        allowance.expire(now: 60)
        #expect(allowance.used == 2)
        #expect(allowance.wait(for: 1, now: 60) == 0)
        #expect(allowance.secondsToEmpty(now: 60) == 10)
    }

    @Test func takesCloseTogetherAreOneEntryThatLeavesWithTheLast() {
        var allowance = WindowAllowance(capacity: 10)
        let first = allowance.take(1, now: 0)
        let second = allowance.take(1, now: 0.05)
        #expect(first == second)
        // The entry is stamped with the later time: at 60.01 both are still in the window.
        allowance.expire(now: 60.01)
        #expect(allowance.used == 2)
        allowance.expire(now: 60.06)
        #expect(allowance.used == 0)
    }

    @Test func adjustGivesBackToItsEntryAndNeverBelowNothing() {
        var allowance = WindowAllowance(capacity: 1000)
        let mark = allowance.take(400, now: 0)
        allowance.take(100, now: 1)
        allowance.adjust(mark, by: 388)
        #expect(allowance.used == 112)
        allowance.adjust(mark, by: 50)
        #expect(allowance.used == 100)
        allowance.adjust(mark, by: -30)
        #expect(allowance.used == 130)
        // Gone from the window: nothing to adjust.
        allowance.expire(now: 60.5)
        allowance.adjust(mark, by: 30)
        #expect(allowance.used == 100)
    }

    @Test func storedGrantsCountLikeTakes() {
        let allowance = WindowAllowance(
            capacity: 600,
            window: 61,
            taken: [(at: 0, amount: 300), (at: 30, amount: 250)]
        )
        #expect(allowance.available == 50)
        #expect(allowance.wait(for: 51, now: 40) == 21)
    }
}
