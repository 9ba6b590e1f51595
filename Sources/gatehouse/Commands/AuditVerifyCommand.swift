import ArgumentParser
import GatehouseStore

/// `gatehouse audit verify`: exit 0 when the chain is whole, 1 at the first broken record.
struct AuditVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the audit trail's hash chain; exits 1 when a record was edited or removed."
    )

    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let verification: AuditVerification
        do {
            verification = try data.open().verifyAudit()
        } catch {
            Console.error(error.reason)
            throw ExitCode(1)
        }
        if let broken = verification.firstBreak {
            Console.error("audit record \(broken.sequence) breaks the chain: \(broken.problem)")
            throw ExitCode(1)
        }
        print("audit trail intact: \(verification.records) records")
        if let sequence = verification.headSequence, let hash = verification.headHash {
            print("head: record \(sequence), hash \(hash)")
            print("keep the head elsewhere: a later verify showing an earlier head means records were cut off the end")
        }
    }
}
