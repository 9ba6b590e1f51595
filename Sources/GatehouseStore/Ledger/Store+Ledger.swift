import Crypto
import Foundation
import GRDB
import GatehouseCore

extension Store {
    /// Applies `operations` in order in one transaction and returns one outcome each. A reservation
    /// that does not fit is refused without touching anything; if the transaction fails, every outcome
    /// is `.failed` and nothing was applied. Committed means on disk (WAL, synchronous).
    public func apply(_ operations: [LedgerOperation]) -> [LedgerOutcome] {
        do {
            return try write { db in
                var chain = try AuditChain(db: db)
                return try operations.map { operation in
                    switch operation {
                    case .reserve(let reservation): return try Self.reserve(reservation, in: db)
                    case .settle(let ticket, let cost):
                        try Self.settle(ticket: ticket, cost: cost, in: db)
                        return .done
                    case .record(let entry):
                        try chain.append(entry, in: db)
                        return .done
                    }
                }
            }
        } catch {
            return Array(repeating: .failed(error), count: operations.count)
        }
    }

    /// Charges every reservation left by a gateway that stopped without settling (a crash, a kill) at
    /// the amount reserved — the most the request can have cost, so a budget is never overspent — and
    /// records each in the audit trail. A reservation's owner is the `InstanceLock` id of the gateway that
    /// made it; `isRunning` tells live owners from dead ones. Returns how many it settled.
    @discardableResult
    public func settleAbandonedReservations(
        isRunning: (String) -> Bool,
        now: Date = Date()
    ) throws(StoreError) -> Int {
        let owners = try read { db in try String.fetchAll(db, sql: "SELECT DISTINCT owner FROM reservation") }
        let dead = owners.filter { !isRunning($0) }
        guard !dead.isEmpty else { return 0 }
        return try write { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT ticket, MIN(request_id) AS request_id, MIN(identity) AS identity, MIN(model) AS model,
                           MAX(amount_pusd) AS amount_pusd
                    FROM reservation WHERE owner IN (\(dead.map { _ in "?" }.joined(separator: ",")))
                    GROUP BY ticket ORDER BY MIN(created_at), ticket
                    """,
                arguments: StatementArguments(dead)
            )
            var chain = try AuditChain(db: db)
            for row in rows {
                let amount: Int64 = row["amount_pusd"]
                try Self.settle(ticket: row["ticket"], cost: Cost(picodollars: amount), in: db)
                var entry = AuditEntry(time: now, requestID: row["request_id"], route: "", decision: "allow", status: 0)
                entry.identity = row["identity"]
                entry.model = row["model"]
                entry.cost = Cost(picodollars: amount)
                entry.reason = "charged the amount reserved: the gateway stopped before the request finished"
                try chain.append(entry, in: db)
            }
            return rows.count
        }
    }

    /// The current window of every budget the ledger has seen (or of `scopes`), by scope.
    public func budgets(scopes: [String]? = nil, now: Date = Date()) throws(StoreError) -> [BudgetStatus] {
        let seconds = Int64(now.timeIntervalSince1970)
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM budget_window WHERE window_start <= ? AND window_end > ?
                    ORDER BY scope, window_start
                    """,
                arguments: [seconds, seconds]
            )
            .compactMap { row -> BudgetStatus? in
                let scope: String = row["scope"]
                if let scopes, !scopes.contains(scope) { return nil }
                let period: String = row["period"]
                return BudgetStatus(
                    scope: scope,
                    period: BudgetPeriod(rawValue: period) ?? .total,
                    windowStart: row["window_start"],
                    windowEnd: row["window_end"],
                    limit: Cost(picodollars: row["limit_pusd"]),
                    spent: Cost(picodollars: row["spent_pusd"]),
                    reserved: Cost(picodollars: row["reserved_pusd"])
                )
            }
        }
    }

    // MARK: Operations (inside a transaction)

    private static func reserve(_ reservation: LedgerOperation.Reservation, in db: Database) throws -> LedgerOutcome {
        let seconds = Int64(reservation.at.timeIntervalSince1970)
        var windows: [(charge: BudgetCharge, start: Int64)] = []
        for charge in reservation.budgets {
            let window = charge.period.window(containing: seconds)
            let current = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT spent_pusd, reserved_pusd, limit_pusd FROM budget_window
                        WHERE scope = ? AND window_start = ?
                        """
                ),
                arguments: [charge.scope, window.start]
            )
            var used = Cost.zero
            if let current {
                used = Cost(picodollars: current[0]) + Cost(picodollars: current[1])
                if current[2] != charge.limit.picodollars {
                    // Configuration changed the limit: the window keeps what was spent, under the new limit.
                    try db.cachedStatement(
                        sql: "UPDATE budget_window SET limit_pusd = ? WHERE scope = ? AND window_start = ?"
                    ).execute(arguments: [charge.limit.picodollars, charge.scope, window.start])
                }
            } else {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO budget_window (scope, period, window_start, window_end, limit_pusd)
                        VALUES (?, ?, ?, ?, ?)
                        """
                ).execute(arguments: [
                    charge.scope, charge.period.rawValue, window.start, window.end, charge.limit.picodollars,
                ])
            }
            if used + reservation.amount > charge.limit {
                return .refused(
                    BudgetRefusal(
                        scope: charge.scope,
                        limit: charge.limit,
                        remaining: charge.limit - used,
                        resetsAt: charge.period == .total ? nil : window.end
                    )
                )
            }
            windows.append((charge, window.start))
        }
        for (charge, start) in windows {
            try db.cachedStatement(
                sql: "UPDATE budget_window SET reserved_pusd = reserved_pusd + ? WHERE scope = ? AND window_start = ?"
            ).execute(arguments: [reservation.amount.picodollars, charge.scope, start])
            try db.cachedStatement(
                sql: """
                    INSERT INTO reservation (ticket, scope, window_start, amount_pusd, request_id, identity, model,
                        created_at, owner)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                reservation.ticket, charge.scope, start, reservation.amount.picodollars, reservation.requestID,
                reservation.identity, reservation.model, reservation.at.timeIntervalSince1970, reservation.owner,
            ])
        }
        return .done
    }

    /// Moves the ticket's reservations into spending: `cost`, at most the amount each held.
    private static func settle(ticket: String, cost: Cost, in db: Database) throws {
        let rows = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT scope, window_start, amount_pusd FROM reservation WHERE ticket = ?"),
            arguments: [ticket]
        )
        for row in rows {
            let amount: Int64 = row[2]
            let charged = min(cost.picodollars, amount)
            try db.cachedStatement(
                sql: """
                    UPDATE budget_window SET reserved_pusd = reserved_pusd - ?, spent_pusd = spent_pusd + ?
                    WHERE scope = ? AND window_start = ?
                    """
            ).execute(arguments: [amount, charged, row[0] as String, row[1] as Int64])
        }
        try db.cachedStatement(sql: "DELETE FROM reservation WHERE ticket = ?").execute(arguments: [ticket])
    }

    // MARK: Schema

    static func createLedgerAndAudit(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE budget_window (
                    scope TEXT NOT NULL,
                    period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month', 'total')),
                    window_start INTEGER NOT NULL,
                    window_end INTEGER NOT NULL,
                    limit_pusd INTEGER NOT NULL CHECK (limit_pusd >= 0),
                    spent_pusd INTEGER NOT NULL DEFAULT 0 CHECK (spent_pusd >= 0),
                    reserved_pusd INTEGER NOT NULL DEFAULT 0 CHECK (reserved_pusd >= 0),
                    PRIMARY KEY (scope, window_start)
                );
                CREATE TABLE reservation (
                    ticket TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    window_start INTEGER NOT NULL,
                    amount_pusd INTEGER NOT NULL CHECK (amount_pusd >= 0),
                    request_id TEXT NOT NULL,
                    identity TEXT NOT NULL,
                    model TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    owner TEXT NOT NULL,
                    PRIMARY KEY (ticket, scope),
                    FOREIGN KEY (scope, window_start) REFERENCES budget_window (scope, window_start)
                );
                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY,
                    time REAL NOT NULL,
                    request_id TEXT NOT NULL,
                    identity TEXT,
                    model TEXT,
                    decision TEXT NOT NULL,
                    status INTEGER NOT NULL,
                    tokens_in INTEGER,
                    tokens_out INTEGER,
                    estimated INTEGER NOT NULL DEFAULT 0,
                    cost_pusd INTEGER,
                    record TEXT NOT NULL,
                    previous_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                );
                CREATE INDEX audit_time ON audit (time);
                CREATE INDEX audit_identity ON audit (identity, time);
                """
        )
    }
}
