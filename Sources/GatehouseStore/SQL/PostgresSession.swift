import Foundation
import NIOCore
import PostgresNIO

/// The store's SQL on one PostgreSQL connection, each statement waited for on the caller's thread.
struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let database: PostgresDatabase

    var dialect: SQLDialect { .postgres }

    func execute(_ sql: String, _ arguments: [any SQLArgument], cached: Bool) throws -> Int {
        try run(sql, arguments).metadata.rows ?? 0
    }

    func rows(_ sql: String, _ arguments: [any SQLArgument], cached: Bool) throws -> [SQLRow] {
        let result = try run(sql, arguments)
        guard let first = result.rows.first else { return [] }
        let columns = SQLRow.Columns(first.map(\.columnName))
        return try result.rows.map { row in SQLRow(columns: columns, values: try row.map(Self.value)) }
    }

    private func run(_ sql: String, _ arguments: [any SQLArgument]) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument.sqlValue {
            case .null: bindings.appendNull()
            case .integer(let value): bindings.append(value)
            case .real(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            case .blob(let value): bindings.append(ByteBuffer(bytes: value))
            }
        }
        return try run(PostgresQuery(unsafeSQL: database.numbered(sql), binds: bindings))
    }

    /// Runs a statement; a failure to reach the server is `unavailable`, one the server reports goes on
    /// as it is (a constraint, a conflict), for the store to describe.
    func run(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try wait(connection.query(query, logger: database.logger))
    }

    /// Runs a statement prepared once per connection (the server plans it once, not at every call),
    /// as `run(_:)` runs one.
    func run<Statement: PostgresPreparedStatement>(_ statement: Statement) throws where Statement.Row == () {
        let connection = connection
        let logger = database.logger
        let done = connection.eventLoop.makePromise(of: Void.self)
        Task(executorPreference: database.executor) {
            do {
                _ = try await connection.execute(statement, logger: logger)
                done.succeed()
            } catch {
                done.fail(error)
            }
        }
        try wait(done.futureResult)
    }

    private func wait<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T {
        do {
            guard let result = try PostgresDatabase.block(future) else {
                // The connection is in no known state: closed, and the transaction with it.
                PostgresDatabase.close(connection)
                throw database.notAnswering
            }
            return result
        } catch let error as PSQLError where error.serverInfo == nil {
            throw StoreError(
                .unavailable,
                "the store \(database.location) cannot be reached: \(database.describe(error))"
            )
        }
    }

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea: return .blob(bytes.readBytes(length: bytes.readableBytes) ?? [])
        case .numeric:
            let number = try cell.decode(Decimal.self)
            let whole = NSDecimalNumber(decimal: number)
            if number == Decimal(whole.int64Value) { return .integer(whole.int64Value) }
            return .real(whole.doubleValue)
        default: return .text(try cell.decode(String.self))
        }
    }
}
