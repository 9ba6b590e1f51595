/// A connection inside a transaction, on either backend. Statements use `?` placeholders.
protocol SQLSession {
    var dialect: SQLDialect { get }

    /// Runs one statement; returns how many rows it changed. `cached` keeps the prepared statement for
    /// the next time (statements whose text is fixed; never text built from a query's values).
    @discardableResult
    func execute(_ sql: String, _ arguments: [any SQLArgument], cached: Bool) throws -> Int

    /// Runs one statement and returns its rows.
    func rows(_ sql: String, _ arguments: [any SQLArgument], cached: Bool) throws -> [SQLRow]
}

extension SQLSession {
    @discardableResult
    func execute(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> Int {
        try execute(sql, arguments, cached: true)
    }

    func rows(_ sql: String, _ arguments: [any SQLArgument] = []) throws -> [SQLRow] {
        try rows(sql, arguments, cached: true)
    }

    /// The first row, if any.
    func row(_ sql: String, _ arguments: [any SQLArgument] = [], cached: Bool = true) throws -> SQLRow? {
        try rows(sql, arguments, cached: cached).first
    }

    /// The first column of the first row; nil when there is no row or the value is NULL.
    func value<T: SQLColumn>(
        _ sql: String,
        _ arguments: [any SQLArgument] = [],
        cached: Bool = true,
        as type: T.Type = T.self
    ) throws -> T? {
        guard let row = try row(sql, arguments, cached: cached) else { return nil }
        let value: T? = try row[0]
        return value
    }
}
