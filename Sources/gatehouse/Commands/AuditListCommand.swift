import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

/// `gatehouse audit list --identity N --model M --decision deny --since 1h -o json`.
struct AuditListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List audit records, oldest first (the newest --limit of those that match)."
    )

    @Option(help: "Only this identity's requests.")
    var identity: String?

    @Option(help: "Only requests for this model.")
    var model: String?

    @Option(help: "Only allow or deny decisions.")
    var decision: Verdict?

    @OptionGroup var range: TimeRangeOptions

    @Option(help: "At most this many records.")
    var limit: Int = 100

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        var query = AuditQuery()
        query.identity = identity
        query.model = model
        query.decision = decision
        query.since = range.start
        query.until = range.end
        query.limit = limit
        do {
            let records = try data.open().auditRecords(query)
            switch output.output {
            case .table:
                Console.table(
                    TableText.render(
                        header: [
                            "SEQ", "TIME", "REQUEST", "IDENTITY", "MODEL", "DECISION", "STATUS", "TOKENS", "COST",
                            "REASON",
                        ],
                        rows: records.map { record in
                            let entry = record.entry
                            let tokens = entry.tokensIn.map {
                                "\($0)+\(entry.tokensOut ?? 0)\(entry.tokensEstimated == true ? "~" : "")"
                            }
                            return [
                                String(record.sequence), entry.time.ISO8601Format(), entry.requestID,
                                entry.identity ?? "-",
                                entry.model ?? "-", entry.decision.rawValue, String(entry.status), tokens ?? "-",
                                entry.cost?.description ?? "-", entry.reason?.code ?? "",
                            ]
                        }
                    ),
                    empty: "no audit records match"
                )
            case .json, .yaml:
                print(
                    try StructuredOutput.render(
                        AuditListing(items: records.map(AuditListing.Item.init)),
                        as: output.output
                    )
                )
            }
        } catch let error as StoreError {
            Console.error(error.reason)
            throw ExitCode(1)
        }
    }
}

/// The JSON shape of `audit list`: each record's entry with its place in the chain.
struct AuditListing: Encodable {
    struct Item: Encodable {
        let sequence: Int64
        let hash: String
        let previousHash: String
        let record: AuditEntry

        init(_ record: AuditRecord) {
            sequence = record.sequence
            hash = record.hash
            previousHash = record.previousHash
            self.record = record.entry
        }
    }

    let items: [Item]
}
