import Foundation
import GatehouseCore

/// The one façade over Gatehouse's database: an embedded SQLite file (WAL) in a data directory, or a
/// PostgreSQL database that several gateways share (`StoreLocation`). The store's rules are written once,
/// in SQL both backends run (`StoreDatabase`); nothing above the store knows which one it talks to.
///
/// Keys are kept as SHA-256 digests only. A `generation` counter, bumped by triggers on every key
/// change, lets a running gateway notice changes made by another process (`gatehouse keys ...`)
/// with one cheap read.
public final class Store: Sendable {
    /// The database file's name inside a data directory.
    public static let fileName = SQLiteDatabase.fileName

    let database: any StoreDatabase
    public let location: StoreLocation

    /// The data directory of an embedded store: the ledger's journals and the gateways' lock files
    /// live there. A PostgreSQL store has none: what must last goes to the database.
    var directory: URL? { location.directory }

    /// Opens (creating when needed) the embedded store in `directory`, made private to the user.
    public convenience init(
        directory: URL,
        busyTimeout: TimeInterval = 5,
        backgroundCheckpoints: Bool = false
    ) throws(StoreError) {
        try self.init(
            location: .sqlite(directory: directory),
            busyTimeout: busyTimeout,
            backgroundCheckpoints: backgroundCheckpoints
        )
    }

    /// Opens the store at `location` and brings its schema up to date; refuses a schema newer than this
    /// build knows. On SQLite a write waits up to `busyTimeout` seconds for another process's write to
    /// finish, and with `backgroundCheckpoints` (a long-running server) commits never copy the log back
    /// into the database file themselves.
    public init(
        location: StoreLocation,
        busyTimeout: TimeInterval = 5,
        backgroundCheckpoints: Bool = false
    ) throws(StoreError) {
        self.location = location
        switch location {
        case .sqlite(let directory):
            do {
                database = try SQLiteDatabase(
                    directory: directory,
                    busyTimeout: busyTimeout,
                    backgroundCheckpoints: backgroundCheckpoints
                )
            } catch {
                throw StoreError(.unavailable, "cannot open the data directory \(directory.path): \(error)")
            }
        case .postgres(let postgres):
            database = try PostgresDatabase(postgres)
        }
        try migrate()
    }

    // MARK: Keys

    /// Creates a key and returns its record and its text, which is never stored and cannot be shown again.
    public func createKey(
        kind: StoredKey.Kind,
        name: String,
        labels: [String: String],
        expiresAt: Date?,
        quota: KeyQuota = KeyQuota(),
        now: Date = Date()
    ) throws(StoreError) -> (key: StoredKey, secret: KeySecret) {
        try Self.validate(name: name, labels: labels)
        try Self.validate(quota)
        if let expiresAt, expiresAt <= now {
            throw StoreError(.invalid, "the expiry \(expiresAt.ISO8601Format()) is not in the future")
        }
        let secret = KeySecret.generate(kind: kind)
        let key = StoredKey(
            id: secret.id,
            kind: kind,
            name: name,
            labels: labels,
            createdAt: now,
            expiresAt: expiresAt,
            revokedAt: nil,
            secretDigest: secret.digest,
            quota: quota
        )
        try write { db in
            if try Self.active(named: name, kind: kind, in: db) != nil {
                throw StoreError(.conflict, "an active \(kind.rawValue) key named \"\(name)\" exists; revoke it first")
            }
            try db.execute(
                """
                INSERT INTO key (id, kind, name, labels, created_at, expires_at, revoked_at, secret_digest,
                    rpm, tpm, max_concurrent, budget_pusd, budget_period)
                VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)
                """,
                [
                    key.id, kind.rawValue, name, try Self.encode(labels), now.timeIntervalSince1970,
                    expiresAt?.timeIntervalSince1970, Data(key.secretDigest), quota.requestsPerMinute,
                    quota.tokensPerMinute, quota.maxConcurrent, quota.budget?.picodollars,
                    quota.budgetPeriod?.rawValue,
                ]
            )
        }
        return (key, secret)
    }

    /// Every key of `kind`, revoked and expired ones included, oldest first.
    public func keys(kind: StoredKey.Kind) throws(StoreError) -> [StoredKey] {
        try read { db in
            try db.rows("SELECT * FROM key WHERE kind = ? ORDER BY created_at, id", [kind.rawValue]).map(
                Self.key(from:)
            )
        }
    }

    /// Revokes the active key named `nameOrID` (a name, or the id shown in listings).
    @discardableResult
    public func revokeKey(kind: StoredKey.Kind, _ nameOrID: String, now: Date = Date()) throws(StoreError) -> StoredKey
    {
        try write { db in
            let row =
                try Self.active(named: nameOrID, kind: kind, in: db)
                ?? db.row(
                    "SELECT * FROM key WHERE kind = ? AND id = ? AND revoked_at IS NULL",
                    [kind.rawValue, nameOrID]
                )
            guard let row else {
                throw StoreError(.notFound, "no active \(kind.rawValue) key with the name or id \"\(nameOrID)\"")
            }
            let id: String = try row["id"]
            try db.execute("UPDATE key SET revoked_at = ? WHERE id = ?", [now.timeIntervalSince1970, id])
            guard let revoked = try db.row("SELECT * FROM key WHERE id = ?", [id]) else {
                throw StoreError(.notFound, "the key \(id) went while it was revoked")
            }
            return try Self.key(from: revoked)
        }
    }

    /// How many times keys have changed; compare two readings to know whether to reload.
    public func generation() throws(StoreError) -> Int64 {
        try read { db in try db.value("SELECT value FROM generation WHERE id = 1") ?? 0 }
    }

    // MARK: Plumbing

    @discardableResult
    func read<T>(_ body: (any SQLSession) throws -> T) throws(StoreError) -> T {
        try access("read") { database in try database.read(body) }
    }

    @discardableResult
    func write<T>(_ body: (any SQLSession) throws -> T) throws(StoreError) -> T {
        try access("written") { database in try database.write(body) }
    }

    /// Runs a database operation; store errors pass through, anything else becomes `unavailable`, with the
    /// backend's message (never a statement or its values).
    func access<T>(_ verb: String, _ operation: (any StoreDatabase) throws -> T) throws(StoreError) -> T {
        do {
            return try operation(database)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "the store could not be \(verb): \(database.describe(error))")
        }
    }

    private static func active(named name: String, kind: StoredKey.Kind, in db: any SQLSession) throws -> SQLRow? {
        try db.row("SELECT * FROM key WHERE kind = ? AND name = ? AND revoked_at IS NULL", [kind.rawValue, name])
    }

    private static func key(from row: SQLRow) throws -> StoredKey {
        let labelsText: String = try row["labels"]
        let labels = try JSONDecoder().decode([String: String].self, from: Data(labelsText.utf8))
        let expires: Double? = try row["expires_at"]
        let revoked: Double? = try row["revoked_at"]
        let digest: Data = try row["secret_digest"]
        let kindText: String = try row["kind"]
        let created: Double = try row["created_at"]
        return StoredKey(
            id: try row["id"],
            kind: StoredKey.Kind(rawValue: kindText) ?? .api,
            name: try row["name"],
            labels: labels,
            createdAt: Date(timeIntervalSince1970: created),
            expiresAt: expires.map(Date.init(timeIntervalSince1970:)),
            revokedAt: revoked.map(Date.init(timeIntervalSince1970:)),
            secretDigest: Array(digest),
            quota: KeyQuota(
                requestsPerMinute: try row["rpm"],
                tokensPerMinute: try row["tpm"],
                maxConcurrent: try row["max_concurrent"],
                budget: (try row["budget_pusd"] as Int64?).map(Cost.init(picodollars:)),
                budgetPeriod: (try row["budget_period"] as String?).flatMap(BudgetPeriod.init(rawValue:))
            )
        )
    }

    private static func encode(_ labels: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(labels), as: UTF8.self)
    }

    private static func validate(name: String, labels: [String: String]) throws(StoreError) {
        guard Labels.problem(key: name, value: "") == nil, !name.contains("/") else {
            throw StoreError(
                .invalid,
                "the key name \"\(name)\" must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric"
            )
        }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) {
            if let problem = Labels.problem(key: key, value: value) { throw StoreError(.invalid, problem) }
        }
    }

    private static func validate(_ quota: KeyQuota) throws(StoreError) {
        for (name, value) in [
            ("requests per minute", quota.requestsPerMinute), ("tokens per minute", quota.tokensPerMinute),
            ("concurrent requests", quota.maxConcurrent),
        ] {
            if let value, value < 1 { throw StoreError(.invalid, "the limit on \(name) must be at least 1") }
        }
        if quota.budgetPeriod != nil && quota.budget == nil {
            throw StoreError(.invalid, "a budget period needs a budget amount")
        }
    }

    /// Brings the schema up to date (`StoreSchema`). Two processes opening a new SQLite data directory
    /// at once may both find it empty; the loser's write fails and finds the work done when it tries again.
    private func migrate() throws(StoreError) {
        for attempt in 1...5 {
            do {
                try StoreSchema.migrate(database)
                return
            } catch let error as StoreError {
                throw error
            } catch  where attempt < 5 && database.dialect == .sqlite {
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            } catch {
                throw StoreError(
                    .unavailable,
                    "the store \(location) could not be migrated: \(database.describe(error))"
                )
            }
        }
    }
}
