/// A per-minute allowance as a sliding window: at most `capacity` units are taken in any `window`
/// seconds. Plain state, fed the time by its owner.
///
/// Not a token bucket: a bucket of L a minute that starts full admits L at once and L more over the
/// next minute, 2L in one minute. Here "L per minute" holds for every minute, wherever it starts.
///
/// Takes within `grain` of an entry's first are kept in that entry, stamped with the latest: an entry
/// leaves the window at most `grain` late, never early, and a window holds at most `window / grain`
/// entries however many requests it admits.
public struct WindowAllowance: Sendable {
    /// What was taken from `opened` to `at`; `mark` names it for `adjust`.
    private struct Entry: Sendable {
        let opened: Double
        var at: Double
        var amount: Double
        let mark: Int64
    }

    /// Changed by its owner when a limit is configured anew; what was taken stays counted.
    public var capacity: Double
    public let window: Double
    /// The entries still in the window (from `first` on), oldest first, their marks consecutive.
    private var entries: [Entry] = []
    private var first = 0
    public private(set) var used: Double = 0
    private var nextMark: Int64 = 0

    public static let minute = 60.0
    public static let grain = 0.1

    public init(capacity: Int, window: Double = minute) {
        self.capacity = Double(capacity)
        self.window = window
    }

    /// An allowance with what was taken already, `(at, amount)` pairs oldest first (a shared
    /// allowance's rows in the store).
    public init(capacity: Double, window: Double, taken: [(at: Double, amount: Double)]) {
        self.capacity = capacity
        self.window = window
        for (at, amount) in taken {
            entries.append(Entry(opened: at, at: at, amount: amount, mark: nextMark))
            nextMark += 1
            used += amount
        }
    }

    /// Forgets what left the window by `now`.
    public mutating func expire(now: Double) {
        while first < entries.count, entries[first].at <= now - window {
            used -= entries[first].amount
            first += 1
        }
        if first == entries.count {
            // Sums of fractions drift; an empty window is exactly empty.
            used = 0
            entries.removeAll(keepingCapacity: true)
            first = 0
        } else if first >= 64, first * 2 >= entries.count {
            entries.removeFirst(first)
            first = 0
        }
    }

    /// What can be taken now (after `expire`).
    public var available: Double { max(capacity - used, 0) }

    /// Seconds from `now` until `amount` fits (after `expire`): 0 when it does now, infinity when it
    /// is more than the whole allowance and never will.
    public func wait(for amount: Double, now: Double) -> Double {
        guard amount <= capacity else { return .infinity }
        guard used + amount > capacity else { return 0 }
        var left = used
        for entry in entries[first...] {
            left -= entry.amount
            if left + amount <= capacity { return max(entry.at + window - now, 0) }
        }
        return window
    }

    /// Takes `amount` at `now`; returns the mark of the entry that has it.
    @discardableResult
    public mutating func take(_ amount: Double, now: Double) -> Int64 {
        used += amount
        if first < entries.count, now - entries[entries.count - 1].opened < Self.grain {
            entries[entries.count - 1].at = max(entries[entries.count - 1].at, now)
            entries[entries.count - 1].amount += amount
            return entries[entries.count - 1].mark
        }
        entries.append(Entry(opened: now, at: now, amount: amount, mark: nextMark))
        nextMark += 1
        return nextMark - 1
    }

    /// Gives back `amount` of what entry `mark` took (a negative amount takes more), if the entry is
    /// still in the window; never below nothing.
    public mutating func adjust(_ mark: Int64, by amount: Double) {
        guard first < entries.count else { return }
        let index = first + Int(mark - entries[first].mark)
        guard index >= first, index < entries.count else { return }
        let kept = max(entries[index].amount - amount, 0)
        used += kept - entries[index].amount
        entries[index].amount = kept
    }

    /// What is left to take, in whole units.
    public var remaining: Int { max(Int(available.rounded(.down)), 0) }

    /// Seconds from `now` until everything taken has left the window.
    public func secondsToEmpty(now: Double) -> Double {
        guard first < entries.count else { return 0 }
        return max(entries[entries.count - 1].at + window - now, 0)
    }
}
