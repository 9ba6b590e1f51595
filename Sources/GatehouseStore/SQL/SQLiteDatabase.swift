import Foundation
import GRDB

/// The embedded store: a SQLite file (WAL) in the data directory.
final class SQLiteDatabase: StoreDatabase {
    /// The database file's name inside the data directory.
    static let fileName = "gatehouse.sqlite"

    let pool: DatabasePool
    private let checkpointer: WALCheckpointer?

    var dialect: SQLDialect { .sqlite }

    /// Opens (creating when needed) the database in `directory`, which is made private to the user.
    /// A write waits up to `busyTimeout` seconds for another process's write to finish. With
    /// `backgroundCheckpoints` (a long-running server), commits never copy the log back into the
    /// database file themselves: a checkpointer of the store's own does, twice a second.
    init(directory: URL, busyTimeout: TimeInterval, backgroundCheckpoints: Bool) throws {
        try FileManager.default.createDirectory(
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
        let path = directory.appending(path: Self.fileName).path
        pool = try DatabasePool(path: path, configuration: configuration)
        checkpointer = backgroundCheckpoints ? try WALCheckpointer(path: path) : nil
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteSession(db: db)) }
    }

    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try pool.write { db in try body(SQLiteSession(db: db)) }
    }

    func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? error.resultCode.description }
        return String(describing: error)
    }
}
