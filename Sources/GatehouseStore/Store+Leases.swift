import Foundation

/// Leases of gateways sharing a PostgreSQL store (`GatewayInstance`). A row's `lease_until` is when its
/// lease runs out, by the database's clock; once another gateway has settled its holds it is a
/// tombstone, minus the time it was settled, so the gateway it names can never take it up again.
extension Store {
    /// The database's clock in seconds: leases are timed by one clock, whatever the gateways' clocks say.
    static let databaseNow = "EXTRACT(EPOCH FROM clock_timestamp())"
    /// How long tombstones and ended leases are kept.
    private static let leaseMemory = 86_400

    /// Takes (`first`) or renews gateway `id`'s lease for `duration` from now. A lease that ran out while
    /// the store was out of reach is taken up again: nobody settled its holds, since that needs the store
    /// too. One that is gone or settled is refused (`.conflict`): its holds were charged by another gateway.
    func renewLease(_ id: String, first: Bool, for duration: Duration) throws(StoreError) {
        let seconds = Double(duration / .milliseconds(1)) / 1000
        try write { db in
            let lease: Double? = try db.value("SELECT lease_until FROM gateway_instance WHERE id = ?", [id])
            switch (lease, first) {
            case (nil, true):
                try db.execute(
                    """
                    INSERT INTO gateway_instance (id, started_at, lease_until)
                    VALUES (?, \(Self.databaseNow), \(Self.databaseNow) + ?)
                    """,
                    [id, seconds]
                )
            case (let until?, _) where until >= 0:
                try db.execute(
                    "UPDATE gateway_instance SET lease_until = \(Self.databaseNow) + ? WHERE id = ?",
                    [seconds, id]
                )
            default:
                throw StoreError(
                    .conflict,
                    "this gateway's lease in the store was ended by another gateway, which charged its budget "
                        + "holds as abandoned; it stops so that nothing is spent twice"
                )
            }
        }
    }

    /// Whether gateway `id` holds a lease that has not run out.
    func leaseIsLive(_ id: String) throws(StoreError) -> Bool {
        try read { db in
            try db.row("SELECT 1 FROM gateway_instance WHERE id = ? AND lease_until > \(Self.databaseNow)", [id]) != nil
        }
    }

    /// Ends gateway `id`'s lease (it stopped in order, holding nothing, its requests done).
    func endLease(_ id: String) throws(StoreError) {
        try write { db in
            try db.execute("DELETE FROM quota_slot WHERE owner = ?", [id])
            try db.execute("DELETE FROM gateway_instance WHERE id = ?", [id])
        }
    }

    /// Marks `owner`'s lease settled, inside the transaction that charged its holds.
    static func tombstoneLease(_ owner: String, in db: any SQLSession) throws {
        try db.execute(
            """
            INSERT INTO gateway_instance (id, started_at, lease_until) VALUES (?, 0, -\(databaseNow))
            ON CONFLICT (id) DO UPDATE SET lease_until = excluded.lease_until
            """,
            [owner]
        )
    }

    /// Forgets tombstones and run-out leases older than a day whose gateways hold nothing.
    func forgetEndedLeases() throws(StoreError) {
        try write { db in
            try db.execute(
                """
                DELETE FROM gateway_instance WHERE abs(lease_until) < \(Self.databaseNow) - \(Self.leaseMemory)
                AND id NOT IN (SELECT owner FROM budget_hold)
                """
            )
        }
    }
}
