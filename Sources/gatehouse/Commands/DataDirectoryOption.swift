import ArgumentParser
import Foundation
import GatehouseStore

/// `--data-dir` and `--store`: where the self-signed certificate lives, and where the store is: the
/// embedded one in the data directory unless `--store`, `GATEHOUSE_STORE` or the configuration's
/// `store:` (in that order) name another. A PostgreSQL password comes from `--store-password-file`,
/// `GATEHOUSE_STORE_PASSWORD_FILE`, the configuration's `passwordFile:`, or `PGPASSWORD`; never argv.
struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "The data directory (created on first use).")
    var dataDirectory: String = ".gatehouse"

    @Option(
        name: .customLong("store"),
        help:
            "The store: sqlite://DIR or postgres://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=CA (default: the data directory)."
    )
    var store: String?

    @Option(
        name: .customLong("store-password-file"),
        help: "A file holding the PostgreSQL password (or set PGPASSWORD)."
    )
    var passwordFile: String?

    var url: URL { URL(filePath: dataDirectory, directoryHint: .isDirectory) }

    /// Where the store is; `configured` is the configuration's `store:`.
    func location(
        configured: StoreLocation? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(StoreError) -> StoreLocation {
        let passwordFile = passwordFile ?? environment["GATEHOUSE_STORE_PASSWORD_FILE"]
        do {
            if let text = store ?? environment["GATEHOUSE_STORE"] {
                return try StoreLocation(text, passwordFile: passwordFile, environment: environment)
            }
        } catch {
            throw StoreError(error.code, "\(store == nil ? "GATEHOUSE_STORE" : "--store"): \(error.reason)")
        }
        return configured ?? .sqlite(directory: url)
    }

    /// Opens the store.
    func open() throws(StoreError) -> Store { try Store(location: try location()) }
}
