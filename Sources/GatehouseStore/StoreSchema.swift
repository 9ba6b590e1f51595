import Foundation

/// The store's schema as named, versioned migrations, the same list on both backends: a version means
/// the same tables on SQLite and on PostgreSQL. Each store records the migrations it has in
/// `gatehouse_schema`; opening a store applies the missing ones in one write transaction (the store's
/// single writer: on PostgreSQL an advisory lock, so gateways starting together never migrate twice),
/// and a store with a migration this build does not know is refused, never written.
///
/// Statements are written once, in SQLite's words; `SQLDialect.postgres` gets them with PostgreSQL's
/// types (`StoreSchema.postgres(_:)`), and the few that differ are given for each.
enum StoreSchema {
    struct Migration {
        let version: Int
        let name: String
        let statements: [Statement]
    }

    enum Statement {
        case both(String)
        case sqlite(String)
        case postgres(String)
    }

    static let migrations: [Migration] = [
        Migration(
            version: 1,
            name: "v1-keys",
            statements: [
                .sqlite(
                    """
                    CREATE TABLE key (
                        id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 8),
                        kind TEXT NOT NULL CHECK (kind IN ('api', 'admin')),
                        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63),
                        labels TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(labels)),
                        created_at REAL NOT NULL,
                        expires_at REAL,
                        revoked_at REAL,
                        secret_digest BLOB NOT NULL UNIQUE CHECK (length(secret_digest) = 32)
                    )
                    """
                ),
                .postgres(
                    """
                    CREATE TABLE key (
                        id TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 8),
                        kind TEXT NOT NULL CHECK (kind IN ('api', 'admin')),
                        name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 63),
                        labels TEXT NOT NULL DEFAULT '{}' CHECK (labels::jsonb IS NOT NULL),
                        created_at DOUBLE PRECISION NOT NULL,
                        expires_at DOUBLE PRECISION,
                        revoked_at DOUBLE PRECISION,
                        secret_digest BYTEA NOT NULL UNIQUE CHECK (length(secret_digest) = 32)
                    )
                    """
                ),
                .both("CREATE UNIQUE INDEX key_active_name ON key (kind, name) WHERE revoked_at IS NULL"),
                .both("CREATE TABLE generation (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL)"),
                .both("INSERT INTO generation (id, value) VALUES (1, 0)"),
                .sqlite(
                    "CREATE TRIGGER key_inserted AFTER INSERT ON key BEGIN \(bumpGeneration) END"
                ),
                .sqlite(
                    "CREATE TRIGGER key_updated AFTER UPDATE ON key BEGIN \(bumpGeneration) END"
                ),
                .sqlite(
                    "CREATE TRIGGER key_deleted AFTER DELETE ON key BEGIN \(bumpGeneration) END"
                ),
                // PostgreSQL also tells listening gateways at once (`NOTIFY gatehouse_keys`).
                .postgres(
                    """
                    CREATE FUNCTION gatehouse_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN \(bumpGeneration) PERFORM pg_notify('\(keysChannel)', ''); RETURN NULL; END $$
                    """
                ),
                .postgres(
                    """
                    CREATE TRIGGER key_changed AFTER INSERT OR UPDATE OR DELETE ON key
                    FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_key_changed()
                    """
                ),
            ]
        ),
        Migration(
            version: 2,
            name: "v2-ledger-audit",
            statements: [
                .both(
                    """
                    CREATE TABLE budget_window (
                        scope TEXT NOT NULL,
                        period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month', 'total')),
                        window_start INTEGER NOT NULL,
                        window_end INTEGER NOT NULL,
                        limit_pusd INTEGER NOT NULL CHECK (limit_pusd >= 0),
                        spent_pusd INTEGER NOT NULL DEFAULT 0 CHECK (spent_pusd >= 0),
                        reserved_pusd INTEGER NOT NULL DEFAULT 0 CHECK (reserved_pusd >= 0),
                        PRIMARY KEY (scope, window_start)
                    )
                    """
                ),
                .both(
                    """
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
                    )
                    """
                ),
                .both(
                    """
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
                    )
                    """
                ),
                .both("CREATE INDEX audit_time ON audit (time)"),
                .both("CREATE INDEX audit_identity ON audit (identity, time)"),
            ]
        ),
        Migration(
            version: 3,
            name: "v2-key-quotas",
            statements: [
                .both("ALTER TABLE key ADD COLUMN rpm INTEGER CHECK (rpm > 0)"),
                .both("ALTER TABLE key ADD COLUMN tpm INTEGER CHECK (tpm > 0)"),
                .both("ALTER TABLE key ADD COLUMN max_concurrent INTEGER CHECK (max_concurrent > 0)"),
                .both("ALTER TABLE key ADD COLUMN budget_pusd INTEGER CHECK (budget_pusd >= 0)"),
                .both(
                    """
                    ALTER TABLE key ADD COLUMN budget_period TEXT
                    CHECK (budget_period IN ('day', 'week', 'month', 'total'))
                    """
                ),
            ]
        ),
        Migration(
            version: 4,
            name: "v3-flows",
            statements: [
                // PostgreSQL keeps a text unique by its digest: a btree entry cannot hold a long trace.
                .sqlite("CREATE TABLE flow_text (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE)"),
                .postgres("CREATE TABLE flow_text (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"),
                .postgres("CREATE UNIQUE INDEX flow_text_digest ON flow_text (md5(text))"),
                .both(
                    """
                    CREATE TABLE flow_endpoint (
                        id INTEGER PRIMARY KEY,
                        kind TEXT NOT NULL,
                        namespace TEXT NOT NULL DEFAULT '',
                        name TEXT NOT NULL,
                        UNIQUE (kind, namespace, name)
                    )
                    """
                ),
                .both(
                    """
                    CREATE TABLE flow (
                        id INTEGER PRIMARY KEY,
                        start_ms INTEGER NOT NULL,
                        end_ms INTEGER NOT NULL,
                        src INTEGER NOT NULL REFERENCES flow_endpoint (id),
                        src_labels INTEGER NOT NULL REFERENCES flow_text (id),
                        dst INTEGER NOT NULL REFERENCES flow_endpoint (id),
                        dst_labels INTEGER NOT NULL REFERENCES flow_text (id),
                        protocol TEXT NOT NULL,
                        port INTEGER,
                        route TEXT,
                        action TEXT NOT NULL,
                        reason TEXT,
                        reporter TEXT NOT NULL,
                        policies INTEGER NOT NULL REFERENCES flow_text (id),
                        requests INTEGER NOT NULL,
                        packets_in INTEGER NOT NULL,
                        packets_out INTEGER NOT NULL,
                        bytes_in INTEGER NOT NULL,
                        bytes_out INTEGER NOT NULL,
                        tokens_in INTEGER NOT NULL,
                        tokens_out INTEGER NOT NULL,
                        cost_pusd INTEGER NOT NULL,
                        duration_us INTEGER NOT NULL,
                        max_duration_us INTEGER NOT NULL
                    )
                    """
                ),
                .both("CREATE INDEX flow_end ON flow (end_ms)"),
                .both("CREATE INDEX flow_src ON flow (src, end_ms)"),
                .both("CREATE INDEX flow_dst ON flow (dst, end_ms)"),
            ]
        ),
        Migration(
            version: 5,
            name: "v4-budget-holds",
            statements: [
                // Reservations become holds: one row per gateway and budget window instead of one per
                // request. Rows that ran down to nothing are kept (a gateway reuses its row) until the
                // gateway stops. A gateway's journal files moved into the store are noted per gateway.
                .both(
                    """
                    CREATE TABLE budget_hold (
                        owner TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        window_start INTEGER NOT NULL,
                        amount_pusd INTEGER NOT NULL CHECK (amount_pusd >= 0),
                        updated_at REAL NOT NULL,
                        PRIMARY KEY (owner, scope, window_start),
                        FOREIGN KEY (scope, window_start) REFERENCES budget_window (scope, window_start)
                    ) WITHOUT ROWID
                    """
                ),
                .both(
                    """
                    INSERT INTO budget_hold (owner, scope, window_start, amount_pusd, updated_at)
                        SELECT owner, scope, window_start, SUM(amount_pusd), MAX(created_at)
                        FROM reservation GROUP BY owner, scope, window_start
                    """
                ),
                .both("DROP TABLE reservation"),
                .both(
                    "CREATE TABLE ledger_journal (journal TEXT PRIMARY KEY, generation INTEGER NOT NULL) WITHOUT ROWID"
                ),
            ]
        ),
        Migration(
            version: 6,
            name: "v6-instances",
            statements: [
                // Gateways sharing a PostgreSQL database cannot see each other's lock files: each renews
                // a lease here, and one whose lease ran out is gone (its holds are settled by the others).
                // Gateways on SQLite share a data directory and its lock files (`InstanceLock`) instead.
                .postgres(
                    """
                    CREATE TABLE gateway_instance (
                        id TEXT PRIMARY KEY,
                        started_at REAL NOT NULL,
                        lease_until REAL NOT NULL
                    ) WITHOUT ROWID
                    """
                )
            ]
        ),
        Migration(
            version: 7,
            name: "v7-replica-limits",
            statements: [
                // The most a gateway's requests in flight on a hold can cost, as it last said: a hold
                // left by a gateway that died is charged no more (NULL: unknown, the whole hold).
                .both("ALTER TABLE budget_hold ADD COLUMN in_flight_pusd INTEGER"),
                // Rate, token and concurrency allowances the gateways sharing a PostgreSQL database share
                // (`Store.shareAllowances`). A gateway on SQLite keeps its allowances in memory.
                .postgres(
                    """
                    CREATE TABLE quota_window (
                        id INTEGER PRIMARY KEY,
                        scope TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('requests', 'tokens')),
                        owner TEXT NOT NULL,
                        at REAL NOT NULL,
                        amount REAL NOT NULL CHECK (amount >= 0)
                    )
                    """
                ),
                .postgres("CREATE INDEX quota_window_scope ON quota_window (scope, kind, at)"),
                .postgres("CREATE INDEX quota_window_at ON quota_window (at)"),
                .postgres(
                    """
                    CREATE TABLE quota_slot (
                        scope TEXT NOT NULL,
                        owner TEXT NOT NULL,
                        slots INTEGER NOT NULL,
                        PRIMARY KEY (scope, owner)
                    ) WITHOUT ROWID
                    """
                ),
            ]
        ),
    ]

    /// The channel PostgreSQL notifies when keys change.
    static let keysChannel = "gatehouse_keys"

    private static let bumpGeneration = "UPDATE generation SET value = value + 1 WHERE id = 1;"

    /// The identifiers GRDB's migrator recorded in stores made before `gatehouse_schema`, by version.
    private static let grdbIdentifiers = Dictionary(
        uniqueKeysWithValues: migrations.filter { $0.version <= 5 }.map { ($0.name, $0.version) }
    )

    /// Applies the missing migrations; refuses a store that has one this build does not know.
    static func migrate(_ database: any StoreDatabase, now: Date = Date()) throws {
        try database.write { session in
            try session.execute(
                postgres(
                    """
                    CREATE TABLE IF NOT EXISTS gatehouse_schema (
                        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL
                    )
                    """,
                    session.dialect
                ),
                [],
                cached: false
            )
            try adoptGRDBHistory(session, now: now)
            let applied = try session.rows("SELECT version, name FROM gatehouse_schema ORDER BY version", [])
            var versions = Set<Int>()
            for row in applied {
                let version: Int = try row[0]
                let name: String = try row[1]
                guard migrations.contains(where: { $0.version == version }) else {
                    throw StoreError(
                        .invalid,
                        "the store's schema has migration \(version) (\(name)), newer than this gatehouse knows "
                            + "(up to \(migrations.last?.version ?? 0)); run a gatehouse at least as new as "
                            + "the one that migrated it"
                    )
                }
                versions.insert(version)
            }
            for migration in migrations where !versions.contains(migration.version) {
                for statement in migration.statements {
                    switch (statement, session.dialect) {
                    case (.both(let sql), _), (.sqlite(let sql), .sqlite), (.postgres(let sql), .postgres):
                        try session.execute(postgres(sql, session.dialect), [], cached: false)
                    case (.sqlite, .postgres), (.postgres, .sqlite): continue
                    }
                }
                try session.execute(
                    "INSERT INTO gatehouse_schema (version, name, applied_at) VALUES (?, ?, ?)",
                    [migration.version, migration.name, now.timeIntervalSince1970]
                )
            }
        }
    }

    /// The newest migration a store has (0 for an empty one).
    static func version(_ session: any SQLSession) throws -> Int {
        try session.value("SELECT MAX(version) FROM gatehouse_schema") ?? 0
    }

    /// A SQLite store made before `gatehouse_schema` has its migrations in GRDB's table: they are
    /// recorded here under the same names, and GRDB's table goes.
    private static func adoptGRDBHistory(_ session: any SQLSession, now: Date) throws {
        guard session.dialect == .sqlite,
            try session.row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'") != nil
        else { return }
        for row in try session.rows("SELECT identifier FROM grdb_migrations", []) {
            let identifier: String = try row[0]
            guard let version = grdbIdentifiers[identifier] else { continue }
            try session.execute(
                "INSERT INTO gatehouse_schema (version, name, applied_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [version, identifier, now.timeIntervalSince1970]
            )
        }
        try session.execute("DROP TABLE grdb_migrations", [], cached: false)
    }

    /// `sql` in `dialect`'s words: for PostgreSQL, SQLite's column types become PostgreSQL's (an integer
    /// primary key an identity column, as SQLite's rowid alias numbers rows) and `WITHOUT ROWID` goes.
    static func postgres(_ sql: String, _ dialect: SQLDialect) -> String {
        guard dialect == .postgres else { return sql }
        return
            sql
            .replacingOccurrences(
                of: "INTEGER PRIMARY KEY",
                with: "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
            )
            .replacingOccurrences(of: " INTEGER", with: " BIGINT")
            .replacingOccurrences(of: " REAL", with: " DOUBLE PRECISION")
            .replacingOccurrences(of: " WITHOUT ROWID", with: "")
    }
}
