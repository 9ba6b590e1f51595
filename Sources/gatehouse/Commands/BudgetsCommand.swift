import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseStore

/// `gatehouse budgets`: each budget's current window — limit, spent, held by requests in flight, left.
struct BudgetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "budgets",
        abstract: "Show spent, reserved and remaining money per budget."
    )

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var output: OutputOptions

    func run() throws {
        do {
            let budgets = try data.open().budgets()
            switch output.output {
            case .table:
                Console.table(Self.table(budgets), empty: "no budget has been charged yet in its current window")
            case .json, .yaml: print(try StructuredOutput.render(BudgetListing(items: budgets), as: output.output))
            }
        } catch let error as StoreError {
            Console.error(error.reason)
            throw ExitCode(1)
        }
    }

    static func table(_ budgets: [BudgetStatus]) -> String {
        TableText.render(
            header: ["BUDGET", "PERIOD", "WINDOW", "LIMIT", "SPENT", "RESERVED", "REMAINING"],
            rows: budgets.map { budget in
                let start = Date(timeIntervalSince1970: TimeInterval(budget.windowStart)).ISO8601Format()
                let window = budget.period == .total ? "-" : start
                return [
                    budget.scope, budget.period.rawValue, window, budget.limit.description, budget.spent.description,
                    budget.reserved.description, budget.remaining.description,
                ]
            }
        )
    }
}

/// The JSON shape of `budgets`.
struct BudgetListing: Encodable {
    let items: [BudgetStatus]
}
