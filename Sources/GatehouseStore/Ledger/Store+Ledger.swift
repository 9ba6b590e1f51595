import Crypto
import Foundation
import GRDB
import GatehouseCore

extension Store {
    /// Applies `operations` in order in one transaction and returns one outcome each. A hold that cannot
    /// grow is refused without touching anything; if the transaction fails, every outcome is `.failed` and
    /// nothing was applied. Committed means durable against the process dying (WAL, `synchronous=NORMAL`).
    public func apply(_ operations: [LedgerOperation]) -> [LedgerOutcome] {
        do {
            return try write { db in
                var chain: AuditChain?
                return try operations.map { operation in
                    switch operation {
                    case .hold(let request): return try Self.hold(request, in: db)
                    case .charge(let key, let cost):
                        try Self.takeFromHold(key, amount: cost, spend: true, in: db)
                        return .done
                    case .release(let key, let amount):
                        try Self.takeFromHold(key, amount: amount, spend: false, in: db)
                        return .done
                    case .record(let entry, let text):
                        if chain == nil { chain = try AuditChain(db: db) }
                        try chain?.append(entry, text: text, in: db)
                        return .done
                    case .journalMoved(let journal, let generation):
                        try Self.noteJournalMoved(journal: journal, generation: generation, in: db)
                        return .done
                    }
                }
            }
        } catch {
            return Array(repeating: .failed(error), count: operations.count)
        }
    }

    /// Settles what every gateway that stopped without doing so (a crash, a kill) left behind: first
    /// the operations of its journal files the store does not have yet (charges, releases and audit
    /// records it had made durable there), then its holds, charged in full: a hold covers the requests
    /// that gateway had in flight at their worst case, so charging it never leaves a budget overspent (it
    /// may charge headroom no request used). Each hold charged is recorded in the audit trail. An owner is
    /// the `InstanceLock` id of its gateway; `isRunning` tells live owners from dead ones. Returns how many
    /// holds it charged.
    @discardableResult
    public func chargeAbandonedHolds(
        isRunning: (String) -> Bool,
        now: Date = Date()
    ) throws(StoreError) -> Int {
        let journals = LedgerJournal.files(in: directory)
        let (owners, marked) = try read { db in
            (
                try String.fetchAll(db, sql: "SELECT owner FROM budget_hold"),
                try String.fetchAll(db, sql: "SELECT journal FROM ledger_journal")
            )
        }
        let names = Set(journals.keys).union(marked)
        let dead = Set(owners).union(names.map(LedgerJournal.owner)).filter { !isRunning($0) }.sorted()
        var charged = 0
        for owner in dead {
            let theirs = names.filter { LedgerJournal.owner(of: $0) == owner }.sorted()
            charged += try settle(abandoned: owner, journals: theirs.map { ($0, journals[$0] ?? []) }, now: now)
        }
        return charged
    }

    private func settle(
        abandoned owner: String,
        journals: [(name: String, generations: [Int64])],
        now: Date
    ) throws(StoreError) -> Int {
        // Marks are read inside the write transaction: another gateway settling the same owner at the same
        // time finds the marks this one leaves and replays nothing (it may find the files gone, too).
        let charged = try write { db in
            var chain = try AuditChain(db: db)
            for journal in journals {
                let moved = try Int64.fetchOne(
                    db,
                    sql: "SELECT generation FROM ledger_journal WHERE journal = ?",
                    arguments: [journal.name]
                )
                for generation in journal.generations where generation > (moved ?? 0) {
                    let operations = try LedgerJournal.operations(
                        in: directory,
                        name: journal.name,
                        generation: generation
                    )
                    for operation in operations {
                        switch operation {
                        case .charge(let key, let cost): try Self.takeFromHold(key, amount: cost, spend: true, in: db)
                        case .release(let key, let amount):
                            try Self.takeFromHold(key, amount: amount, spend: false, in: db)
                        case .record(let entry, let text): try chain.append(entry, text: text, in: db)
                        case .hold, .journalMoved: break
                        }
                    }
                }
                if let last = journal.generations.last {
                    try Self.noteJournalMoved(journal: journal.name, generation: last, in: db)
                }
            }
            let rows = try Row.fetchAll(
                db,
                sql:
                    "SELECT scope, window_start, amount_pusd FROM budget_hold WHERE owner = ? ORDER BY scope, window_start",
                arguments: [owner]
            )
            for row in rows {
                let amount = Cost(picodollars: row["amount_pusd"])
                let key = LedgerOperation.HoldKey(owner: owner, scope: row["scope"], windowStart: row["window_start"])
                try Self.takeFromHold(key, amount: amount, spend: true, in: db)
                guard amount > .zero else { continue }
                var entry = AuditEntry(time: now, requestID: "hold-\(owner)", route: "", decision: "allow", status: 0)
                entry.cost = amount
                entry.reason =
                    "charged what a gateway that stopped without settling held on budget \(key.scope): "
                    + "its requests in flight at their worst case"
                try chain.append(entry, in: db)
            }
            try db.execute(sql: "DELETE FROM budget_hold WHERE owner = ?", arguments: [owner])
            return rows.count(where: { Cost(picodollars: $0["amount_pusd"]) > .zero })
        }
        // Files go once the store has their operations, and the marks once the files are gone: a crash
        // in between leaves files the marks say were moved, never operations applied twice.
        let folder = LedgerJournal.folder(in: directory)
        for journal in journals {
            for generation in journal.generations { unlink(LedgerJournal.file(folder, journal.name, generation).path) }
        }
        try forgetJournals(owner: owner)
        return charged
    }

    /// Forgets the marks of the owner's journals (their files are gone).
    public func forgetJournals(owner: String) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: "DELETE FROM ledger_journal WHERE substr(journal, 1, ?) = ?",
                arguments: [owner.count + 1, owner + "."]
            )
        }
    }

    /// Gives back everything `owner` holds and forgets its holds (a gateway stopping with nothing in flight).
    public func releaseHolds(owner: String) throws(StoreError) {
        try write { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT scope, window_start, amount_pusd FROM budget_hold WHERE owner = ?",
                arguments: [owner]
            )
            for row in rows {
                let key = LedgerOperation.HoldKey(owner: owner, scope: row["scope"], windowStart: row["window_start"])
                try Self.takeFromHold(key, amount: Cost(picodollars: row["amount_pusd"]), spend: false, in: db)
            }
            try db.execute(sql: "DELETE FROM budget_hold WHERE owner = ?", arguments: [owner])
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

    private static func hold(_ request: LedgerOperation.HoldRequest, in db: Database) throws -> LedgerOutcome {
        let seconds = Int64(request.at.timeIntervalSince1970)
        var grants: [(charge: BudgetCharge, start: Int64, amount: Cost)] = []
        for (index, charge) in request.budgets.enumerated() {
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
            let needed = request.needed[index]
            let spare = charge.limit - used
            guard used <= charge.limit, needed <= spare else {
                return .refused(
                    BudgetRefusal(
                        scope: charge.scope,
                        limit: charge.limit,
                        remaining: used > charge.limit ? .zero : spare,
                        resetsAt: charge.period == .total ? nil : window.end
                    )
                )
            }
            grants.append((charge, window.start, min(max(needed, request.wanted[index]), spare)))
        }
        for grant in grants where grant.amount > .zero {
            try db.cachedStatement(
                sql: "UPDATE budget_window SET reserved_pusd = reserved_pusd + ? WHERE scope = ? AND window_start = ?"
            ).execute(arguments: [grant.amount.picodollars, grant.charge.scope, grant.start])
            try db.cachedStatement(
                sql: """
                    INSERT INTO budget_hold (owner, scope, window_start, amount_pusd, updated_at)
                    VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (owner, scope, window_start)
                    DO UPDATE SET amount_pusd = amount_pusd + excluded.amount_pusd, updated_at = excluded.updated_at
                    """
            ).execute(arguments: [
                request.owner, grant.charge.scope, grant.start, grant.amount.picodollars,
                request.at.timeIntervalSince1970,
            ])
        }
        return .held(grants.map(\.amount))
    }

    private static func noteJournalMoved(journal: String, generation: Int64, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO ledger_journal (journal, generation) VALUES (?, ?)
                ON CONFLICT (journal) DO UPDATE SET generation = MAX(generation, excluded.generation)
                """
        ).execute(arguments: [journal, generation])
    }

    /// Takes `amount` (at most what the hold has) out of a hold: spent when `spend`, else given back.
    private static func takeFromHold(
        _ key: LedgerOperation.HoldKey,
        amount: Cost,
        spend: Bool,
        in db: Database
    ) throws {
        guard
            let held = try Int64.fetchOne(
                db.cachedStatement(
                    sql: "SELECT amount_pusd FROM budget_hold WHERE owner = ? AND scope = ? AND window_start = ?"
                ),
                arguments: [key.owner, key.scope, key.windowStart]
            )
        else { return }
        let taken = min(amount.picodollars, held)
        try db.cachedStatement(
            sql: """
                UPDATE budget_window SET reserved_pusd = reserved_pusd - ?, spent_pusd = spent_pusd + ?
                WHERE scope = ? AND window_start = ?
                """
        ).execute(arguments: [taken, spend ? taken : 0, key.scope, key.windowStart])
        try db.cachedStatement(
            sql:
                "UPDATE budget_hold SET amount_pusd = amount_pusd - ? WHERE owner = ? AND scope = ? AND window_start = ?"
        ).execute(arguments: [taken, key.owner, key.scope, key.windowStart])
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

    /// Reservations become holds: one row per gateway and budget window instead of one per request; a
    /// gateway's journal files moved into the store are noted per gateway.
    /// Rows that ran down to nothing are kept (a gateway reuses its row) until the gateway stops.
    static func replaceReservationsWithHolds(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE budget_hold (
                    owner TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    window_start INTEGER NOT NULL,
                    amount_pusd INTEGER NOT NULL CHECK (amount_pusd >= 0),
                    updated_at REAL NOT NULL,
                    PRIMARY KEY (owner, scope, window_start),
                    FOREIGN KEY (scope, window_start) REFERENCES budget_window (scope, window_start)
                ) WITHOUT ROWID;
                INSERT INTO budget_hold (owner, scope, window_start, amount_pusd, updated_at)
                    SELECT owner, scope, window_start, SUM(amount_pusd), MAX(created_at)
                    FROM reservation GROUP BY owner, scope, window_start;
                DROP TABLE reservation;
                CREATE TABLE ledger_journal (
                    journal TEXT PRIMARY KEY,
                    generation INTEGER NOT NULL
                ) WITHOUT ROWID;
                """
        )
    }
}
