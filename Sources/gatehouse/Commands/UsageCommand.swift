import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

/// `gatehouse usage --since 30d`: requests, tokens and cost per identity and model, from the audit trail.
struct UsageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage",
        abstract: "Show requests, tokens and spend per identity and model."
    )

    @Option(help: "Only this identity.")
    var identity: String?

    @OptionGroup var range: TimeRangeOptions

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let store = try data.open()
            let rows = try store.usage(
                identity: identity,
                since: range.start,
                until: range.end
            )
            let budgets = try store.budgets()
            switch output.output {
            case .table:
                Console.table(
                    TableText.render(
                        header: [
                            "IDENTITY", "MODEL", "REQUESTS", "DENIED", "TOKENS IN", "TOKENS OUT", "ESTIMATED", "COST",
                        ],
                        rows: rows.map { row in
                            [
                                row.identity, row.model.isEmpty ? "-" : row.model, String(row.requests),
                                String(row.denied),
                                String(row.tokensIn), String(row.tokensOut), String(row.estimated),
                                row.cost.description,
                            ]
                        }
                    ),
                    empty: "no requests in this time range"
                )
                if !budgets.isEmpty {
                    print("\nbudgets (gatehouse budgets):\n" + BudgetsCommand.table(budgets), terminator: "")
                }
            case .json, .yaml:
                print(try StructuredOutput.render(UsageListing(items: rows, budgets: budgets), as: output.output))
            }
        } catch let error as StoreError {
            Console.error(error.reason)
            throw ExitCode(1)
        }
    }
}

/// The JSON shape of `usage`.
struct UsageListing: Encodable {
    let items: [UsageSummary]
    let budgets: [BudgetStatus]
}
