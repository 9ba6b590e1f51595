import Foundation
import GRDB
import GatehouseCore

/// The one façade over Gatehouse's database: a SQLite file (WAL) in the data directory.
///
/// Keys are kept as SHA-256 digests only. A `generation` counter, bumped by triggers on every key
/// change, lets a running gateway notice changes made by another process (`gatehouse keys ...`)
/// with one cheap read.
public final class Store: Sendable {
    /// The database file's name inside the data directory.
    public static let fileName = "gatehouse.sqlite"

    let pool: DatabasePool
    /// The data directory.
    let directory: URL
    private let checkpointer: WALCheckpointer?

    /// Opens (creating when needed) the store in `directory`, which is made private to the user.
    /// A write waits up to `busyTimeout` seconds for another process's write to finish. With
    /// `backgroundCheckpoints` (a long-running server), commits never copy the log back into the database
    /// file themselves: a checkpointer of the store's own does, twice a second.
    public init(
        directory: URL,
        busyTimeout: TimeInterval = 5,
        backgroundCheckpoints: Bool = false
    ) throws(StoreError) {
        let manager = FileManager.default
        do {
            try manager.createDirectory(
                at: directory,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            var configuration = Configuration()
            configuration.busyMode = .timeout(busyTimeout)
            configuration.label = "gatehouse"
            // In WAL mode, NORMAL makes a commit durable against the process dying (kill -9 included)
            // without an fsync per commit; the WAL is synced at checkpoints. Power loss may lose the
            // last commits, never corrupt the database.
            // A 32 MiB page cache per connection keeps flow inserts and queries off the disk; a checkpoint
            // every 8192 pages (32 MiB of WAL) instead of 1000 saves most checkpoint syncs during ingest.
            let autocheckpoint = backgroundCheckpoints ? 0 : 8192
            configuration.prepareDatabase { db in
                try db.execute(
                    sql: """
                        PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;
                        PRAGMA wal_autocheckpoint = \(autocheckpoint)
                        """
                )
            }
            self.directory = directory
            let path = directory.appending(path: Self.fileName).path
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrate(pool)
            checkpointer = backgroundCheckpoints ? try WALCheckpointer(path: path) : nil
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "cannot open the data directory \(directory.path): \(Self.describe(error))")
        }
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
                sql: """
                    INSERT INTO key (id, kind, name, labels, created_at, expires_at, revoked_at, secret_digest,
                        rpm, tpm, max_concurrent, budget_pusd, budget_period)
                    VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
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
            try Row.fetchAll(
                db,
                sql: "SELECT * FROM key WHERE kind = ? ORDER BY created_at, id",
                arguments: [kind.rawValue]
            )
            .map(Self.key(from:))
        }
    }

    /// Revokes the active key named `nameOrID` (a name, or the id shown in listings).
    @discardableResult
    public func revokeKey(kind: StoredKey.Kind, _ nameOrID: String, now: Date = Date()) throws(StoreError) -> StoredKey
    {
        try write { db in
            let row =
                try Self.active(named: nameOrID, kind: kind, in: db)
                ?? Row.fetchOne(
                    db,
                    sql: "SELECT * FROM key WHERE kind = ? AND id = ? AND revoked_at IS NULL",
                    arguments: [kind.rawValue, nameOrID]
                )
            guard let row else {
                throw StoreError(.notFound, "no active \(kind.rawValue) key with the name or id \"\(nameOrID)\"")
            }
            let id: String = row["id"]
            try db.execute(
                sql: "UPDATE key SET revoked_at = ? WHERE id = ?",
                arguments: [now.timeIntervalSince1970, id]
            )
            return try Self.key(from: Row.fetchOne(db, sql: "SELECT * FROM key WHERE id = ?", arguments: [id])!)
        }
    }

    /// How many times keys have changed; compare two readings to know whether to reload.
    public func generation() throws(StoreError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT value FROM generation WHERE id = 1") ?? 0 }
    }

    // MARK: Plumbing

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        try access("read") { pool in try pool.read(body) }
    }

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        try access("written") { pool in try pool.write(body) }
    }

    /// Runs a database operation; store errors pass through, anything else becomes `unavailable`.
    private func access<T>(_ verb: String, _ operation: (DatabasePool) throws -> T) throws(StoreError) -> T {
        do {
            return try operation(pool)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "the database could not be \(verb): \(Self.describe(error))")
        }
    }

    private static func active(named name: String, kind: StoredKey.Kind, in db: Database) throws -> Row? {
        try Row.fetchOne(
            db,
            sql: "SELECT * FROM key WHERE kind = ? AND name = ? AND revoked_at IS NULL",
            arguments: [kind.rawValue, name]
        )
    }

    private static func key(from row: Row) throws -> StoredKey {
        let labelsText: String = row["labels"]
        let labels = try JSONDecoder().decode([String: String].self, from: Data(labelsText.utf8))
        let expires: Double? = row["expires_at"]
        let revoked: Double? = row["revoked_at"]
        let digest: Data = row["secret_digest"]
        let kindText: String = row["kind"]
        return StoredKey(
            id: row["id"],
            kind: StoredKey.Kind(rawValue: kindText) ?? .api,
            name: row["name"],
            labels: labels,
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            expiresAt: expires.map(Date.init(timeIntervalSince1970:)),
            revokedAt: revoked.map(Date.init(timeIntervalSince1970:)),
            secretDigest: Array(digest),
            quota: KeyQuota(
                requestsPerMinute: row["rpm"],
                tokensPerMinute: row["tpm"],
                maxConcurrent: row["max_concurrent"],
                budget: (row["budget_pusd"] as Int64?).map(Cost.init(picodollars:)),
                budgetPeriod: (row["budget_period"] as String?).flatMap(BudgetPeriod.init(rawValue:))
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

    static func addKeyQuotas(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE key ADD COLUMN rpm INTEGER CHECK (rpm > 0);
                ALTER TABLE key ADD COLUMN tpm INTEGER CHECK (tpm > 0);
                ALTER TABLE key ADD COLUMN max_concurrent INTEGER CHECK (max_concurrent > 0);
                ALTER TABLE key ADD COLUMN budget_pusd INTEGER CHECK (budget_pusd >= 0);
                ALTER TABLE key ADD COLUMN budget_period TEXT CHECK (budget_period IN ('day', 'week', 'month', 'total'));
                """
        )
    }

    /// Database errors as a user may see them: SQLite's message without the statement or its arguments.
    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? error.resultCode.description }
        return String(describing: error)
    }

    /// Brings the schema up to date. Two processes opening a new data directory at once race to create
    /// it; the loser finds the work done when it tries again.
    private static func migrate(_ pool: DatabasePool) throws {
        for attempt in 1...5 {
            do {
                try migrator.migrate(pool)
                return
            } catch  where attempt < 5 {
                Thread.sleep(forTimeInterval: 0.05 * Double(attempt))
            }
        }
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-keys") { db in
            try db.execute(
                sql: """
                    CREATE TABLE key (
                        id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 8),
                        kind TEXT NOT NULL CHECK (kind IN ('api', 'admin')),
                        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63),
                        labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
                        created_at REAL NOT NULL,
                        expires_at REAL,
                        revoked_at REAL,
                        secret_digest BLOB NOT NULL UNIQUE CHECK (length(secret_digest) = 32)
                    );
                    CREATE UNIQUE INDEX key_active_name ON key (kind, name) WHERE revoked_at IS NULL;
                    CREATE TABLE generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
                    INSERT INTO generation (id, value) VALUES (1, 0);
                    CREATE TRIGGER key_inserted AFTER INSERT ON key BEGIN
                        UPDATE generation SET value = value + 1 WHERE id = 1;
                    END;
                    CREATE TRIGGER key_updated AFTER UPDATE ON key BEGIN
                        UPDATE generation SET value = value + 1 WHERE id = 1;
                    END;
                    CREATE TRIGGER key_deleted AFTER DELETE ON key BEGIN
                        UPDATE generation SET value = value + 1 WHERE id = 1;
                    END;
                    """
            )
        }
        migrator.registerMigration("v2-ledger-audit", migrate: Self.createLedgerAndAudit)
        migrator.registerMigration("v2-key-quotas", migrate: Self.addKeyQuotas)
        migrator.registerMigration("v3-flows", migrate: FlowRow.createTable)
        migrator.registerMigration("v4-budget-holds", migrate: Self.replaceReservationsWithHolds)
        return migrator
    }
}
