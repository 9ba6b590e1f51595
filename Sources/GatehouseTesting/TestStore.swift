import Foundation
import GatehouseStore
import Synchronization

/// Fresh, empty stores for tests, on both backends: SQLite in a temporary directory, and a new database
/// on the PostgreSQL server `scripts/test.sh` starts (`scripts/postgres.sh`), reached over TLS with the
/// server's CA checked and a password, as a deployment would.
public enum TestStore {
    public enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
        case sqlite, postgres
        public var description: String { rawValue }
    }

    /// The server's variables, as `scripts/postgres.sh` exports them.
    public struct Server: Sendable {
        public let url: String
        public let password: String
        public let caFile: String
        public let dataDirectory: String
        public let binaries: String

        /// The server the environment names; a test on PostgreSQL fails with this message without one.
        public static func fromEnvironment() throws -> Server {
            let environment = ProcessInfo.processInfo.environment
            guard let url = environment["GATEHOUSE_TEST_POSTGRES"],
                let password = environment["GATEHOUSE_TEST_POSTGRES_PASSWORD"],
                let caFile = environment["GATEHOUSE_TEST_POSTGRES_CA"]
            else {
                throw TestStoreError(
                    "no PostgreSQL for the tests: run them with scripts/test.sh, or scripts/with-postgres.sh swift test"
                )
            }
            return Server(
                url: url,
                password: password,
                caFile: caFile,
                dataDirectory: environment["GATEHOUSE_TEST_POSTGRES_DATA"] ?? "",
                binaries: environment["GATEHOUSE_TEST_POSTGRES_BIN"] ?? ""
            )
        }

        /// The URL of `database` on this server, with TLS checked against the server's CA.
        public func url(database: String) -> String {
            let base = url.prefix { $0 != "?" }
            let server = base[..<(base.lastIndex(of: "/") ?? base.endIndex)]
            return "\(server)/\(database)?sslmode=verify-full&sslrootcert=\(caFile)"
        }

        /// Runs SQL on `database` with psql, as an operator would (tests edit the store behind its back).
        public func psql(_ sql: String, database: String = "gatehouse") throws {
            let process = Process()
            process.executableURL = URL(filePath: "/usr/bin/env")
            process.arguments = ["psql", "-q", "-v", "ON_ERROR_STOP=1", url(database: database), "-c", sql]
            var environment = ProcessInfo.processInfo.environment
            environment["PGPASSWORD"] = password
            process.environment = environment
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                throw TestStoreError("psql failed: \(message)")
            }
        }

        /// A new, empty database on this server.
        public func makeDatabase() throws -> String {
            let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try psql("CREATE DATABASE \(name)")
            return name
        }
    }

    /// The embedded stores' directories made so far: removed when the test process exits.
    private static let created = Mutex<[URL]>([])

    private static func removeCreated() {
        for directory in created.withLock({ $0 }) { try? FileManager.default.removeItem(at: directory) }
    }

    /// A new, empty store location on `backend`.
    public static func location(_ backend: Backend) throws -> StoreLocation {
        switch backend {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appending(path: "gh-\(UUID().uuidString)")
            created.withLock { directories in
                if directories.isEmpty { atexit { TestStore.removeCreated() } }
                directories.append(directory)
            }
            return .sqlite(directory: directory)
        case .postgres:
            let server = try Server.fromEnvironment()
            return try StoreLocation(
                server.url(database: try server.makeDatabase()),
                environment: ["PGPASSWORD": server.password]
            )
        }
    }
}

public struct TestStoreError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
