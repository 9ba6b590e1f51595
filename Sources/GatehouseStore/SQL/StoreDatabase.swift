/// The database under the store: transactions in which the store's SQL runs, on SQLite or PostgreSQL.
/// A write transaction is the only writer of the store while it runs, on either backend (SQLite has one
/// writer; on PostgreSQL every write transaction takes one advisory lock first), so the store's
/// read-then-write steps (a hold that checks what a budget can spare, the next audit record that
/// names the one before) are correct however many processes share the database.
protocol StoreDatabase: Sendable {
    var dialect: SQLDialect { get }

    /// Runs `body` in a read-only transaction that sees one snapshot.
    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T

    /// Runs `body` in a write transaction; committed when it returns, rolled back when it throws.
    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T

    /// A backend's error as a user may see it: the server's message, never the statement or its values.
    func describe(_ error: any Error) -> String

    /// Applies `operations` in one statement when they only settle (`LedgerSettlement`) and this backend
    /// has such a statement; false when it left them to a write transaction.
    func settle(_ operations: [LedgerOperation]) throws -> Bool

    /// Hears where a write transaction found the audit trail's head and where it left it.
    func noteChain(found: AuditChain.Head, left: AuditChain.Head)
}

extension StoreDatabase {
    func settle(_ operations: [LedgerOperation]) throws -> Bool { false }

    func noteChain(found: AuditChain.Head, left: AuditChain.Head) {}
}
