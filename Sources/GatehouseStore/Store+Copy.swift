import Foundation

extension Store {
    /// The tables a copy moves, each in its key's order, parents before the rows that refer to them; what
    /// `StoreCopy` counts of each, and whether its ids come from an identity column. Holds and journal
    /// marks are not among them: a store is copied with no gateway running on it.
    private static let copiedTables:
        [(table: String, order: String, counted: (any WritableKeyPath<StoreCopy, Int> & Sendable)?, identity: Bool)] = [
            ("key", "id", \StoreCopy.keys, false), ("budget_window", "scope, window_start", \StoreCopy.budgets, false),
            ("audit", "seq", \StoreCopy.auditRecords, false), ("flow_text", "id", nil, true),
            ("flow_endpoint", "id", nil, true), ("flow", "id", \StoreCopy.flows, true),
        ]
    /// Rows per page read and per insert (the widest table, `flow`, stays under PostgreSQL's 65,535 parameters).
    private static let copyPage = 500

    /// Copies this store into `target` (an embedded store into PostgreSQL, or back): keys, budget windows,
    /// the audit chain record by record with its hashes, and flows, all in one transaction of the target,
    /// which must be empty. Refused while a gateway holds part of a budget here (stop the gateways first;
    /// holds of gateways that died are charged first, as a gateway starting would). The target then
    /// verifies the chain it received, and it must end at this store's head.
    public func copy(into target: Store, now: Date = Date()) throws(StoreError) -> StoreCopy {
        try chargeAbandonedHolds(isRunning: { owner in
            guard let directory else { return (try? self.leaseIsLive(owner)) ?? true }
            return InstanceLock.isRunning(owner, in: directory)
        })
        let source = try verifyAudit()
        if let broken = source.firstBreak {
            throw StoreError(
                .invalid,
                "the source's audit record \(broken.sequence) breaks the chain (\(broken.problem)); not copied"
            )
        }
        var copy = StoreCopy()
        try read { from in
            let held: Int64 = try from.value("SELECT COUNT(*) FROM budget_hold WHERE amount_pusd > 0") ?? 0
            guard held == 0 else {
                throw StoreError(
                    .conflict,
                    "\(location) has budget holds of running gateways; stop them before copying the store"
                )
            }
            try target.write { to in
                for (table, _, _, _) in Self.copiedTables {
                    let rows: Int64 = try to.value("SELECT COUNT(*) FROM \(table)") ?? 0
                    guard rows == 0 else {
                        throw StoreError(.conflict, "\(target.location) is not empty (its \(table) table has rows)")
                    }
                }
                for (table, order, counted, _) in Self.copiedTables {
                    let count = try Self.copyTable(table, order: order, from: from, to: to)
                    if let counted { copy[keyPath: counted] = count }
                }
                if to.dialect == .postgres {
                    // Rows came with their ids: the identity columns go on from the largest.
                    for (table, _, _, identity) in Self.copiedTables where identity {
                        try to.execute(
                            "SELECT setval(pg_get_serial_sequence('\(table)', 'id'), (SELECT MAX(id) FROM \(table)))"
                                + " WHERE EXISTS (SELECT 1 FROM \(table))"
                        )
                    }
                }
            }
        }
        let arrived = try target.verifyAudit()
        guard arrived.firstBreak == nil, arrived.headHash == source.headHash, arrived.records == source.records else {
            throw StoreError(
                .invalid,
                "the audit chain did not arrive intact in \(target.location): \(arrived.records) records, head "
                    + "\(arrived.headHash ?? "none") against \(source.records) and \(source.headHash ?? "none")"
            )
        }
        copy.auditHead = arrived.headHash
        return copy
    }

    /// Copies one table page by page, every column as it is stored; returns how many rows. A table keyed
    /// by one column is paged from the last key read, so a long one costs no more per page than a short one.
    private static func copyTable(
        _ table: String,
        order: String,
        from: any SQLSession,
        to: any SQLSession
    ) throws -> Int {
        var copied = 0
        var last: SQLValue?
        let keyed = !order.contains(",")
        while true {
            let page: [SQLRow]
            if keyed, let last {
                page = try from.rows(
                    "SELECT * FROM \(table) WHERE \(order) > ? ORDER BY \(order) LIMIT ?",
                    [last, copyPage],
                    cached: false
                )
            } else {
                page = try from.rows(
                    "SELECT * FROM \(table) ORDER BY \(order) LIMIT ? OFFSET ?",
                    [copyPage, copied],
                    cached: false
                )
            }
            guard let first = page.first else { break }
            if keyed, let position = first.columns.positions[order] { last = page.last?.values[position] }
            let columns = first.columns.names
            let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ",") + ")"
            try to.execute(
                "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                    + Array(repeating: row, count: page.count).joined(separator: ","),
                page.flatMap(\.values),
                cached: false
            )
            copied += page.count
            if page.count < copyPage { break }
        }
        return copied
    }
}
