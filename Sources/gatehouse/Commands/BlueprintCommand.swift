import ArgumentParser

/// `gatehouse blueprint`: the policies that make AI namespaces RSVP only, printed (the default) or applied.
struct BlueprintCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blueprint",
        abstract: "Write, prove and apply the policies that make AI namespaces RSVP only.",
        subcommands: [BlueprintGenerateCommand.self, BlueprintApplyCommand.self],
        defaultSubcommand: BlueprintGenerateCommand.self
    )
}
