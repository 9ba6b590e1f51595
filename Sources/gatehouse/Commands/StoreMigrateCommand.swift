import ArgumentParser
import Foundation
import GatehouseStore

/// `gatehouse store migrate --from sqlite://DIR --to postgres://…`: copies a store (keys, budgets, the
/// audit chain, flows) into an empty one and verifies the chain on arrival.
struct StoreMigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy a store into an empty one (keys, budgets, audit chain, flows), verifying the audit chain.",
        discussion: """
            Stop the gateways on the source first. The PostgreSQL password comes from --password-file or
            PGPASSWORD, never from the URL.
            """
    )

    @Option(help: "The store to copy: sqlite://DIR or postgres://USER@HOST:PORT/DB?sslmode=….")
    var from: String

    @Option(help: "The empty store to copy into: postgres://USER@HOST:PORT/DB?sslmode=… or sqlite://DIR.")
    var to: String

    @Option(name: .customLong("password-file"), help: "A file holding the PostgreSQL password (or set PGPASSWORD).")
    var passwordFile: String?

    func run() throws {
        do {
            let source = try Store(location: try Self.location(from, "--from", passwordFile: passwordFile))
            let target = try Store(location: try Self.location(to, "--to", passwordFile: passwordFile))
            let copy = try source.copy(into: target)
            print(
                "copied \(copy.keys) keys, \(copy.budgets) budget windows, \(copy.auditRecords) audit records and "
                    + "\(copy.flows) flows into \(target.location)"
            )
            print("audit chain verified on arrival: head \(copy.auditHead ?? "(empty)")")
        } catch {
            Console.error(error.reason)
            throw ExitCode(1)
        }
    }

    private static func location(
        _ text: String,
        _ flag: String,
        passwordFile: String?
    ) throws(StoreError)
        -> StoreLocation
    {
        let isPostgres = text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
        do {
            return try StoreLocation(text, passwordFile: isPostgres ? passwordFile : nil)
        } catch {
            throw StoreError(error.code, "\(flag): \(error.reason)")
        }
    }
}
