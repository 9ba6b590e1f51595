import ArgumentParser

/// `gatehouse flows [list] …` and `gatehouse flows import …`.
struct FlowsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flows",
        abstract: "Query the flow records of every decision, and import flow logs from Hubble and Calico.",
        subcommands: [FlowsListCommand.self, FlowsImportCommand.self],
        defaultSubcommand: FlowsListCommand.self
    )
}
