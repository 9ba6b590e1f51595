import Foundation
import GatehouseCore

extension Store {
    /// Applies `operations` in order in one transaction and returns one outcome each. A hold that cannot
    /// grow is refused without touching anything; if the transaction fails, every outcome is `.failed` and
    /// nothing was applied. Committed means durable against the process dying (SQLite: WAL with
    /// `synchronous=NORMAL`; PostgreSQL: committed on the server, so durable without any local disk).
    public func apply(_ operations: [LedgerOperation]) -> [LedgerOutcome] {
        do {
            if try access("written", { database in try database.settle(operations) }) {
                return Array(repeating: .done, count: operations.count)
            }
            let (outcomes, found, left) = try write { db in
                var chain: AuditChain?
                var found: AuditChain.Head?
                let outcomes = try operations.map { operation -> LedgerOutcome in
                    switch operation {
                    case .hold(let request): return try Self.hold(request, in: db)
                    case .charge(let key, let cost):
                        try Self.takeFromHold(key, amount: cost, spend: true, in: db)
                        return .done
                    case .release(let key, let amount):
                        try Self.takeFromHold(key, amount: amount, spend: false, in: db)
                        return .done
                    case .record(let entry, let text):
                        if chain == nil {
                            chain = try AuditChain(db: db)
                            found = chain?.head
                        }
                        try chain?.append(entry, text: text, in: db)
                        return .done
                    case .inFlight(let key, let bound):
                        try db.execute(
                            """
                            UPDATE budget_hold SET in_flight_pusd = ?
                            WHERE owner = ? AND scope = ? AND window_start = ?
                            """,
                            [bound.picodollars, key.owner, key.scope, key.windowStart]
                        )
                        return .done
                    case .journalMoved(let journal, let generation):
                        try Self.noteJournalMoved(journal: journal, generation: generation, in: db)
                        return .done
                    }
                }
                try chain?.flush(in: db)
                return (outcomes, found, chain?.head)
            }
            if let found, let left { database.noteChain(found: found, left: left) }
            return outcomes
        } catch {
            return Array(repeating: .failed(error), count: operations.count)
        }
    }

    /// Settles what every gateway that stopped without doing so (a crash, a kill) left behind: first
    /// the operations of its journal files the store does not have yet (charges, releases and audit
    /// records it had made durable there), then its holds: a hold covers the requests that gateway had in
    /// flight at their worst case, so charging it never leaves a budget overspent. A hold is charged up to
    /// the bound its gateway last said its requests in flight could cost (`LedgerOperation.inFlight`, on
    /// PostgreSQL), the headroom beyond it given back; one without a bound is charged in full. Each hold charged is recorded in the audit trail. An owner is
    /// the `InstanceLock` id of its gateway; `isRunning` tells live owners from dead ones. Returns how many
    /// holds it charged.
    @discardableResult
    public func chargeAbandonedHolds(
        isRunning: (String) -> Bool,
        now: Date = Date()
    ) throws(StoreError) -> Int {
        let journals = directory.map(LedgerJournal.files(in:)) ?? [:]
        let (owners, marked) = try read { db in
            // On PostgreSQL a gateway holding concurrency slots and no budget is settled too: its slots
            // count until it is.
            let holders =
                directory == nil
                ? "SELECT owner FROM budget_hold UNION SELECT owner FROM quota_slot"
                : "SELECT DISTINCT owner FROM budget_hold"
            return (
                try db.rows(holders).map { row -> String in try row[0] },
                try db.rows("SELECT journal FROM ledger_journal").map { row -> String in try row[0] }
            )
        }
        let names = Set(journals.keys).union(marked)
        let dead = Set(owners).union(names.map(LedgerJournal.owner)).filter { !isRunning($0) }.sorted()
        var charged = 0
        for owner in dead {
            let theirs = names.filter { LedgerJournal.owner(of: $0) == owner }.sorted()
            charged += try settle(abandoned: owner, journals: theirs.map { ($0, journals[$0] ?? []) }, now: now)
        }
        if directory == nil { try forgetEndedLeases() }
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
                let moved: Int64? = try db.value(
                    "SELECT generation FROM ledger_journal WHERE journal = ?",
                    [journal.name]
                )
                for generation in journal.generations where generation > (moved ?? 0) {
                    guard let directory else { break }
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
                        case .hold, .inFlight, .journalMoved: break
                        }
                    }
                }
                if let last = journal.generations.last {
                    try Self.noteJournalMoved(journal: journal.name, generation: last, in: db)
                }
            }
            let rows = try db.rows(
                """
                SELECT scope, window_start, amount_pusd, in_flight_pusd FROM budget_hold WHERE owner = ?
                ORDER BY scope, window_start
                """,
                [owner]
            )
            var charged = 0
            for row in rows {
                let held = Cost(picodollars: try row["amount_pusd"])
                let bound: Int64? = try row["in_flight_pusd"]
                // What its requests in flight could cost, as it last said; the headroom beyond goes back.
                let amount = bound.map { min(held, Cost(picodollars: $0)) } ?? held
                let key = LedgerOperation.HoldKey(
                    owner: owner,
                    scope: try row["scope"],
                    windowStart: try row["window_start"]
                )
                try Self.takeFromHold(key, amount: amount, spend: true, in: db)
                if held > amount { try Self.takeFromHold(key, amount: held - amount, spend: false, in: db) }
                guard amount > .zero else { continue }
                var entry = AuditEntry(time: now, requestID: "hold-\(owner)", route: "", decision: .allow, status: 0)
                entry.cost = amount
                entry.reason = .unsettledHoldCharged
                entry.budget = key.scope
                try chain.append(entry, in: db)
                charged += 1
            }
            try chain.flush(in: db)
            try db.execute("DELETE FROM budget_hold WHERE owner = ?", [owner])
            if directory == nil {
                try db.execute("DELETE FROM quota_slot WHERE owner = ?", [owner])
                try Self.tombstoneLease(owner, in: db)
            }
            return charged
        }
        // Files go once the store has their operations, and the marks once the files are gone: a crash
        // in between leaves files the marks say were moved, never operations applied twice.
        if let directory, !journals.isEmpty {
            let folder = LedgerJournal.folder(in: directory)
            for journal in journals {
                for generation in journal.generations {
                    unlink(LedgerJournal.file(folder, journal.name, generation).path)
                }
            }
        }
        try forgetJournals(owner: owner)
        return charged
    }

    /// Forgets the marks of the owner's journals (their files are gone).
    public func forgetJournals(owner: String) throws(StoreError) {
        try write { db in
            try db.execute(
                "DELETE FROM ledger_journal WHERE substr(journal, 1, CAST(? AS INTEGER)) = ?",
                [owner.count + 1, owner + "."]
            )
        }
    }

    /// Gives back everything `owner` holds and forgets its holds (a gateway stopping with nothing in flight).
    public func releaseHolds(owner: String) throws(StoreError) {
        try write { db in
            let rows = try db.rows("SELECT scope, window_start, amount_pusd FROM budget_hold WHERE owner = ?", [owner])
            for row in rows {
                let key = LedgerOperation.HoldKey(
                    owner: owner,
                    scope: try row["scope"],
                    windowStart: try row["window_start"]
                )
                try Self.takeFromHold(key, amount: Cost(picodollars: try row["amount_pusd"]), spend: false, in: db)
            }
            try db.execute("DELETE FROM budget_hold WHERE owner = ?", [owner])
        }
    }

    /// The current window of every budget the ledger has seen (or of `scopes`), by scope.
    public func budgets(scopes: [String]? = nil, now: Date = Date()) throws(StoreError) -> [BudgetStatus] {
        let seconds = Int64(now.timeIntervalSince1970)
        return try read { db in
            try db.rows(
                """
                SELECT * FROM budget_window WHERE window_start <= ? AND window_end > ?
                ORDER BY scope, window_start
                """,
                [seconds, seconds]
            )
            .compactMap { row -> BudgetStatus? in
                let scope: String = try row["scope"]
                if let scopes, !scopes.contains(scope) { return nil }
                let period: String = try row["period"]
                return BudgetStatus(
                    scope: scope,
                    period: BudgetPeriod(rawValue: period) ?? .total,
                    windowStart: try row["window_start"],
                    windowEnd: try row["window_end"],
                    limit: Cost(picodollars: try row["limit_pusd"]),
                    spent: Cost(picodollars: try row["spent_pusd"]),
                    reserved: Cost(picodollars: try row["reserved_pusd"])
                )
            }
        }
    }

    // MARK: Operations (inside a transaction)

    private static func hold(_ request: LedgerOperation.HoldRequest, in db: any SQLSession) throws -> LedgerOutcome {
        let seconds = Int64(request.at.timeIntervalSince1970)
        var grants: [(charge: BudgetCharge, start: Int64, amount: Cost)] = []
        for (index, charge) in request.budgets.enumerated() {
            let window = charge.period.window(containing: seconds)
            let current = try db.row(
                "SELECT spent_pusd, reserved_pusd, limit_pusd FROM budget_window WHERE scope = ? AND window_start = ?",
                [charge.scope, window.start]
            )
            var used = Cost.zero
            var reserved = Cost.zero
            if let current {
                reserved = Cost(picodollars: try current[1])
                used = Cost(picodollars: try current[0]) + reserved
                if try current[2] != charge.limit.picodollars {
                    // Configuration changed the limit: the window keeps what was spent, under the new limit.
                    try db.execute(
                        "UPDATE budget_window SET limit_pusd = ? WHERE scope = ? AND window_start = ?",
                        [charge.limit.picodollars, charge.scope, window.start]
                    )
                }
            } else {
                try db.execute(
                    """
                    INSERT INTO budget_window (scope, period, window_start, window_end, limit_pusd)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                    [charge.scope, charge.period.rawValue, window.start, window.end, charge.limit.picodollars]
                )
            }
            let needed = request.needed[index]
            let spare = charge.limit - used
            guard used <= charge.limit, needed <= spare else {
                return .refused(
                    BudgetRefusal(
                        scope: charge.scope,
                        limit: charge.limit,
                        remaining: used > charge.limit ? .zero : spare,
                        reserved: reserved,
                        resetsAt: charge.period == .total ? nil : window.end
                    )
                )
            }
            grants.append((charge, window.start, min(max(needed, request.wanted[index]), spare)))
        }
        for grant in grants where grant.amount > .zero {
            try db.execute(
                "UPDATE budget_window SET reserved_pusd = reserved_pusd + ? WHERE scope = ? AND window_start = ?",
                [grant.amount.picodollars, grant.charge.scope, grant.start]
            )
            try db.execute(
                """
                INSERT INTO budget_hold (owner, scope, window_start, amount_pusd, updated_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (owner, scope, window_start) DO UPDATE
                SET amount_pusd = budget_hold.amount_pusd + excluded.amount_pusd, updated_at = excluded.updated_at
                """,
                [
                    request.owner, grant.charge.scope, grant.start, grant.amount.picodollars,
                    request.at.timeIntervalSince1970,
                ]
            )
        }
        return .held(grants.map(\.amount))
    }

    private static func noteJournalMoved(journal: String, generation: Int64, in db: any SQLSession) throws {
        let greatest = db.dialect.greatest("ledger_journal.generation", "excluded.generation")
        try db.execute(
            """
            INSERT INTO ledger_journal (journal, generation) VALUES (?, ?)
            ON CONFLICT (journal) DO UPDATE SET generation = \(greatest)
            """,
            [journal, generation]
        )
    }

    /// Takes `amount` (at most what the hold has) out of a hold: spent when `spend`, else given back.
    private static func takeFromHold(
        _ key: LedgerOperation.HoldKey,
        amount: Cost,
        spend: Bool,
        in db: any SQLSession
    ) throws {
        guard
            let held: Int64 = try db.value(
                "SELECT amount_pusd FROM budget_hold WHERE owner = ? AND scope = ? AND window_start = ?",
                [key.owner, key.scope, key.windowStart]
            )
        else { return }
        let taken = min(amount.picodollars, held)
        try db.execute(
            """
            UPDATE budget_window SET reserved_pusd = reserved_pusd - ?, spent_pusd = spent_pusd + ?
            WHERE scope = ? AND window_start = ?
            """,
            [taken, spend ? taken : 0, key.scope, key.windowStart]
        )
        try db.execute(
            "UPDATE budget_hold SET amount_pusd = amount_pusd - ? WHERE owner = ? AND scope = ? AND window_start = ?",
            [taken, key.owner, key.scope, key.windowStart]
        )
    }
}
