import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// The store on PostgreSQL: a few connections of its own, on an event loop of its own, used from the
/// caller's thread (the store's façade is blocking, as GRDB is; the gateway calls it from its ledger
/// thread and thread pool, never from an event loop). A connection that fails is dropped and the next
/// transaction opens a new one, so a server that comes back is used again without a restart.
final class PostgresDatabase: StoreDatabase {
    /// The advisory lock every write transaction takes first: the store has one writer at a time.
    static let writeLock: Int64 = 0x6761_7465_686f_7573  // "gatehous"

    let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// Where the driver's asynchronous calls run: the connections' own loop.
    let executor: EventLoopExecutor
    private let idle = Mutex<[PostgresConnection]>([])
    private let placeholders = Mutex<[String: String]>([:])
    private let nextID = Atomic<Int>(1)
    /// Where this store last left the audit trail, and whether nobody else wrote since it knew
    /// (`settle`).
    let chainHint = Mutex<ChainHint?>(nil)
    let logger: Logger = {
        var logger = Logger(label: "gatehouse.postgres")
        logger.logLevel = .critical
        return logger
    }()
    /// Connections kept open between transactions.
    static let idleLimit = 8
    /// The longest a statement may take to answer (waiting for another gateway's write lock included):
    /// past it the connection is closed and the call fails as `unavailable`, so a server that hangs
    /// (or a peer frozen holding the lock) is a store out of reach, not a gateway that hangs with it.
    static let statementTimeout = Duration.seconds(10)
    /// The server's own limit on a statement, well inside `statementTimeout`.
    static let serverStatementTimeout = Duration.seconds(8)

    var dialect: SQLDialect { .postgres }

    init(_ location: PostgresLocation) throws(StoreError) {
        self.location = location
        let tls: PostgresConnection.Configuration.TLS
        do {
            tls = try Self.tls(location)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.invalid, "the store \(location): TLS cannot be set up: \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host,
            port: location.port,
            username: location.user,
            password: location.password,
            database: location.database,
            tls: tls
        )
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = [
            // The server gives up on a statement before this side does: a statement this side stopped
            // waiting for (and reports as failed, to be tried again) must not go on to commit.
            ("statement_timeout", "\(Self.serverStatementTimeout.components.seconds)s"),
            // The store's statements are written for READ COMMITTED (updates that add to the rows' current
            // values), whatever the server's default.
            ("default_transaction_isolation", "read committed"),
        ]
        self.configuration = configuration
        executor = EventLoopExecutor(group.next())
    }

    deinit {
        let closed = idle.withLock { $0 }.map(Self.close)
        let group = group
        EventLoopFuture.andAllComplete(closed, on: group.next()).whenComplete { _ in group.shutdownGracefully { _ in } }
    }

    /// Closes a connection without waiting; the closure keeps it alive until it is closed, as
    /// postgres-nio requires.
    @discardableResult
    static func close(_ connection: PostgresConnection) -> EventLoopFuture<Void> {
        let closed: EventLoopFuture<Void> = connection.close()
        closed.whenComplete { _ in withExtendedLifetime(connection) {} }
        return closed
    }

    func read<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", body)
    }

    func write<T>(_ body: (any SQLSession) throws -> T) throws -> T {
        try locked { session in try body(session) }
    }

    /// Runs `body` in a write transaction, on this backend's session.
    func locked<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        try transaction("BEGIN", body) { session in
            try session.execute("SELECT pg_advisory_xact_lock(?)", [Self.writeLock])
        }
    }

    /// Runs `body` on a connection of the pool, outside any transaction (a migration's own locking).
    /// A connection that failed without the server's answer (closed, timed out) is not pooled again:
    /// closing takes a moment to show in `isClosed`, and the next caller would find it dead.
    func withSession<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let connection = try take()
        do {
            let result = try body(PostgresSession(connection: connection, database: self))
            give(back: connection)
            return result
        } catch let error as PSQLError where error.serverInfo != nil {
            give(back: connection)
            throw error
        } catch let error as StoreError where error.code != .unavailable {
            give(back: connection)
            throw error
        } catch {
            Self.close(connection)
            throw error
        }
    }

    func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        if let message = error.serverInfo?[.message] { return message }
        if let underlying = error.underlying { return "\(error.code): \(underlying)" }
        return error.code.description
    }

    /// The SQL with `?` placeholders numbered as PostgreSQL wants them (`$1`, `$2`, …), outside quotes.
    func numbered(_ sql: String) -> String {
        if let known = placeholders.withLock({ $0[sql] }) { return known }
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var quoted = false
        var count = 0
        for character in sql {
            if character == "'" { quoted.toggle() }
            if character == "?" && !quoted {
                count += 1
                result += "$\(count)"
            } else {
                result.append(character)
            }
        }
        placeholders.withLock { cache in
            // Queries built from filters vary; the cache keeps the fixed statements, not every query.
            if cache.count > 512 { cache.removeAll() }
            cache[sql] = result
        }
        return result
    }

    private func transaction<T>(
        _ begin: String,
        _ body: (PostgresSession) throws -> T,
        prepare: (PostgresSession) throws -> Void = { _ in }
    ) throws -> T {
        try withSession { session in
            try session.execute(begin)
            do {
                try prepare(session)
                let result = try body(session)
                try session.execute("COMMIT")
                return result
            } catch {
                // A connection that cannot roll back is in no state to be used again.
                if (try? session.execute("ROLLBACK")) == nil { Self.close(session.connection) }
                throw error
            }
        }
    }

    private func take() throws -> PostgresConnection {
        while let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isClosed { return connection }
        }
        do {
            let connecting = PostgresConnection.connect(
                on: group.next(),
                configuration: configuration,
                id: nextID.add(1, ordering: .relaxed).newValue,
                logger: logger
            )
            guard let connection = try Self.block(connecting) else {
                connecting.whenSuccess { Self.close($0) }
                throw notAnswering
            }
            return connection
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unavailable, "cannot connect to the store \(location): \(describe(error))")
        }
    }

    private func give(back connection: PostgresConnection) {
        let kept = idle.withLock { idle in
            guard idle.count < Self.idleLimit, !connection.isClosed else { return false }
            idle.append(connection)
            return true
        }
        if !kept { Self.close(connection) }
    }

    /// What a call that passed `statementTimeout` fails with.
    var notAnswering: StoreError {
        StoreError(.unavailable, "the store \(location) did not answer within \(Self.statementTimeout)")
    }

    /// Waits for `future` on the calling thread, for `statementTimeout` at most (then `nil`). Not
    /// `EventLoopFuture.wait()`, which refuses any event loop's thread: the gateway calls the store from
    /// its own loops at startup and from its thread pool, and a future of the store's private loop can
    /// never need the calling loop to complete.
    static func block<T: Sendable>(_ future: EventLoopFuture<T>) throws -> T? {
        let done = DispatchSemaphore(value: 0)
        let result = Mutex<Result<T, any Error>?>(nil)
        future.whenComplete { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        guard done.wait(timeout: .now() + .seconds(Int(statementTimeout.components.seconds))) == .success else {
            return nil
        }
        return try result.withLock { $0! }.get()
    }

    private static func tls(_ location: PostgresLocation) throws -> PostgresConnection.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch location.tls {
        case .disable: return .disable
        case .allow, .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let roots = location.rootCertificates {
            guard FileManager.default.isReadableFile(atPath: roots.path) else {
                throw StoreError(.invalid, "the store \(location): sslrootcert \(roots.path) cannot be read")
            }
            configuration.trustRoots = .file(roots.path)
        }
        let context = try NIOSSLContext(configuration: configuration)
        return location.tls == .require || location.tls == .verifyCA || location.tls == .verifyFull
            ? .require(context) : .prefer(context)
    }
}
