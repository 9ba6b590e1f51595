import GatehouseCore

/// Rate, token and concurrency allowances that gateways sharing a PostgreSQL store share, so a quota's
/// limit holds for the group however its requests are spread over the replicas.
///
/// A window allowance is kept as grants (`quota_window`): amounts a gateway may take, stamped by the
/// database's clock, which it spends within `lease` seconds of asking (timed by its own clock from
/// before it asked, so never later than `lease` after the stamp). Its requests are therefore admitted
/// within `lease` after their grant's stamp, and any `minute` of admissions lies within grants stamped in
/// `minute + lease`: counting the grants over that window keeps every minute at the limit, with no slack.
/// What a grant did not use goes back to its row (`AllowanceReturns`), so only what was used counts.
///
/// Concurrency is kept as slots held per gateway (`quota_slot`). A gateway's slots count until it
/// stops in order (its lease ended) or another gateway settles it as dead (its lease a tombstone,
/// `chargeAbandonedHolds`): a gateway whose lease ran out may still have requests running.
extension Store {
    /// Takes `returns` (what `owner`'s grants and slots count now), then answers `asks` in order, all in
    /// one transaction.
    /// `window` is the span a window grant is counted over (a minute and a lease), `lease` how long
    /// a grant is spent for.
    public func shareAllowances(
        _ asks: [AllowanceAsk],
        returning returns: AllowanceReturns,
        owner: String,
        window: Double,
        lease: Double
    ) throws(StoreError) -> [AllowanceGrant] {
        try write { db in
            for (row, amount) in returns.rows {
                try db.execute("UPDATE quota_window SET amount = ? WHERE id = ?", [max(amount, 0), row])
            }
            for (scope, slots) in returns.slots {
                try db.execute(
                    "UPDATE quota_slot SET slots = ? WHERE scope = ? AND owner = ?",
                    [max(slots, 0), scope, owner]
                )
            }
            guard !asks.isEmpty else { return [] }
            let now: Double = try db.value("SELECT \(Self.databaseNow)") ?? 0
            // What no window counts any more, and slots of gateways that stopped or were settled, whatever
            // their scope: a scope nobody asks for again leaves nothing behind.
            try db.execute("DELETE FROM quota_window WHERE at <= ?", [now - window])
            try db.execute(
                """
                DELETE FROM quota_slot
                WHERE slots <= 0 OR owner NOT IN (SELECT id FROM gateway_instance WHERE lease_until > 0)
                """
            )
            return try asks.map { ask in
                switch ask.kind {
                case .requests, .tokens:
                    try Self.grantWindow(ask, owner: owner, now: now, window: window, lease: lease, in: db)
                case .concurrent:
                    try Self.grantSlots(ask, owner: owner, in: db)
                }
            }
        }
    }

    private static func grantWindow(
        _ ask: AllowanceAsk,
        owner: String,
        now: Double,
        window: Double,
        lease: Double,
        in db: any SQLSession
    ) throws -> AllowanceGrant {
        let taken = try db.rows(
            "SELECT at, amount FROM quota_window WHERE scope = ? AND kind = ? ORDER BY at, id",
            [ask.scope, ask.kind.rawValue]
        ).map { row throws(StoreError) -> (at: Double, amount: Double) in (try row[0], try row[1]) }
        let allowance = WindowAllowance(capacity: ask.capacity, window: window, taken: taken)
        var wait = allowance.wait(for: ask.needed, now: now)
        guard wait == 0 else {
            // A grant still being spent gives back what it does not use within a lease.
            if let newest = taken.last?.at, newest > now - lease { wait = min(wait, newest + lease - now) }
            return AllowanceGrant(
                granted: 0,
                row: nil,
                available: allowance.available,
                wait: wait,
                secondsToEmpty: allowance.secondsToEmpty(now: now)
            )
        }
        let granted = min(ask.wanted, allowance.available)
        let row: Int64? = try db.value(
            "INSERT INTO quota_window (scope, kind, owner, at, amount) VALUES (?, ?, ?, ?, ?) RETURNING id",
            [ask.scope, ask.kind.rawValue, owner, now, granted]
        )
        return AllowanceGrant(
            granted: granted,
            row: row,
            available: allowance.available - granted,
            wait: 0,
            secondsToEmpty: window
        )
    }

    private static func grantSlots(_ ask: AllowanceAsk, owner: String, in db: any SQLSession) throws -> AllowanceGrant {
        let held: Int64 =
            try db.value("SELECT COALESCE(SUM(slots), 0) FROM quota_slot WHERE scope = ?", [ask.scope]) ?? 0
        let available = ask.capacity - Double(held)
        guard available >= ask.needed else {
            return AllowanceGrant(granted: 0, row: nil, available: max(available, 0), wait: 1, secondsToEmpty: 0)
        }
        let granted = min(ask.wanted, available).rounded(.down)
        try db.execute(
            """
            INSERT INTO quota_slot (scope, owner, slots) VALUES (?, ?, ?)
            ON CONFLICT (scope, owner) DO UPDATE SET slots = quota_slot.slots + excluded.slots
            """,
            [ask.scope, owner, Int64(granted)]
        )
        return AllowanceGrant(granted: granted, row: nil, available: available - granted, wait: 0, secondsToEmpty: 0)
    }
}
