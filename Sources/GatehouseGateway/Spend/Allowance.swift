/// A per-minute allowance as a token bucket: it holds up to `capacity` units and refills at
/// `capacity` per minute; a request takes what it needs, or is told how long to wait. Plain state,
/// fed the time by its owner.
struct Allowance: Sendable {
    let capacity: Double
    private(set) var level: Double
    private var updated: Double

    init(capacity: Int, now: Double) {
        self.capacity = Double(capacity)
        self.level = Double(capacity)
        self.updated = now
    }

    private var perSecond: Double { capacity / 60 }

    mutating func refill(now: Double) {
        if now > updated { level = min(capacity, level + (now - updated) * perSecond) }
        updated = max(updated, now)
    }

    /// Seconds until `amount` (at most the capacity) is available; 0 when it is now.
    func wait(for amount: Double) -> Double {
        let needed = min(amount, capacity)
        return level >= needed ? 0 : (needed - level) / perSecond
    }

    mutating func take(_ amount: Double) { level -= amount }

    /// Gives back what a request was charged beyond what it used (or takes the difference).
    mutating func adjust(by amount: Double) { level = min(capacity, level + amount) }

    var remaining: Int { max(Int(level.rounded(.down)), 0) }

    /// Seconds until the bucket is full again.
    var secondsToFull: Double { max(capacity - level, 0) / perSecond }
}
