import Foundation

/// Where the store lives: an embedded SQLite file in a data directory, or a PostgreSQL database that
/// several gateways share. Written as `sqlite://DIR` (a bare path means the same) or
/// `postgres://user@host:port/database?sslmode=verify-full&sslrootcert=ca.pem`, as libpq reads it.
///
/// A password is never part of the text: it would show in `ps`, in shell history and in logs. It comes
/// from a password file (`passwordFile:`, `--store-password-file`, a mounted Secret) or from `PGPASSWORD`.
public enum StoreLocation: Sendable, Hashable, CustomStringConvertible {
    case sqlite(directory: URL)
    case postgres(PostgresLocation)

    /// Reads `text`; `passwordFile` and `environment` (`PGPASSWORD`) give a PostgreSQL password. Paths are
    /// taken relative to `base`.
    public init(
        _ text: String,
        passwordFile: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        base: URL = URL(filePath: FileManager.default.currentDirectoryPath)
    ) throws(StoreError) {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(
                try PostgresLocation(text, passwordFile: passwordFile, environment: environment, base: base)
            )
            return
        }
        var path = text
        if path.hasPrefix("sqlite://") { path.removeFirst("sqlite://".count) }
        guard !path.isEmpty, !path.contains("://") else {
            throw StoreError(
                .invalid,
                "the store \"\(text)\" is neither sqlite://DIR nor postgres://user@host:port/database"
            )
        }
        if passwordFile != nil {
            throw StoreError(.invalid, "a password file is for a postgres:// store; \(text) is a data directory")
        }
        self = .sqlite(directory: URL(filePath: path, relativeTo: base).standardizedFileURL)
    }

    /// The location as it may be shown: never with a password.
    public var description: String {
        switch self {
        case .sqlite(let directory): "sqlite://\(directory.path)"
        case .postgres(let location): location.description
        }
    }

    /// The data directory of an embedded store.
    public var directory: URL? {
        guard case .sqlite(let directory) = self else { return nil }
        return directory
    }
}
