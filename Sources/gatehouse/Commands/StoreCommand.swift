import ArgumentParser

/// `gatehouse store ...`: the store itself.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Move the store between SQLite and PostgreSQL.",
        subcommands: [StoreMigrateCommand.self]
    )
}
