import GRDB

/// Edits a database behind the store's back, as someone with access to the file would.
enum SQLiteShell {
    static func run(_ database: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: database)
        try queue.write { db in try db.execute(sql: sql) }
        try queue.close()
    }
}
