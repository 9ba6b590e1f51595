import ArgumentParser

/// `gatehouse audit list|verify`: the hash-chained record of every request.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List audit records and verify their hash chain.",
        subcommands: [AuditListCommand.self, AuditVerifyCommand.self]
    )
}
