import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseGateway
import GatehouseStore

/// `gatehouse keys create --name N --label k=v ... [--expires 30d] [--rpm N --tpm N --max-concurrent N]
/// [--budget-usd 25 --budget-period month] -o json`: prints the key once.
struct KeysCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create an API key and print it once (only its hash is kept)."
    )

    @Option(help: "The key's name: 1-63 letters, digits, '-', '_' or '.'.")
    var name: String

    @Option(name: .customLong("label"), help: "A label k=v for access policies (repeatable).")
    var labels: [String] = []

    @Option(help: "When the key stops working: a duration (90m, 12h, 30d) or an RFC 3339 time.")
    var expires: String?

    @Option(help: "Requests per minute this key may make.")
    var rpm: Int?

    @Option(help: "Tokens (input and output) per minute this key may use.")
    var tpm: Int?

    @Option(help: "Requests this key may have in flight at once.")
    var maxConcurrent: Int?

    @Option(help: "Dollars this key may spend per budget period (e.g. 25 or 2.50).")
    var budgetUsd: String?

    @Option(help: "The budget's period: day, week, month or total.")
    var budgetPeriod: BudgetPeriod?

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var output: OutputOptions

    func validate() throws {
        for label in labels where !label.contains("=") {
            throw ValidationError("--label \(label): expected key=value")
        }
        if let expires, TimeExpression.date(expires, now: Date()) == nil {
            throw ValidationError("--expires \(expires): expected a duration (90m, 12h, 30d) or an RFC 3339 time")
        }
        for (flag, value) in [("--rpm", rpm), ("--tpm", tpm), ("--max-concurrent", maxConcurrent)] {
            if let value, value < 1 { throw ValidationError("\(flag) \(value): must be at least 1") }
        }
        if let budgetUsd, Cost(dollars: budgetUsd) == nil {
            throw ValidationError("--budget-usd \(budgetUsd): expected a dollar amount such as 25 or 2.50")
        }
        if budgetPeriod != nil && budgetUsd == nil {
            throw ValidationError("--budget-period needs --budget-usd")
        }
    }

    private var quota: KeyQuota {
        KeyQuota(
            requestsPerMinute: rpm,
            tokensPerMinute: tpm,
            maxConcurrent: maxConcurrent,
            budget: budgetUsd.flatMap { Cost(dollars: $0) },
            budgetPeriod: budgetUsd == nil ? nil : (budgetPeriod ?? .month)
        )
    }

    func run() throws {
        var labelMap: [String: String] = [:]
        for label in labels {
            let parts = label.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            labelMap[String(parts[0])] = String(parts[1])
        }
        let expiresAt = expires.flatMap { TimeExpression.date($0, now: Date()) }
        do {
            let store = try data.open()
            let created = try store.createKey(
                kind: .api,
                name: name,
                labels: labelMap,
                expiresAt: expiresAt,
                quota: quota
            )
            switch output.output {
            case .table:
                print(created.secret.text)
                Console.warning(
                    "key \(created.key.name) (id \(created.key.id)) created; it is shown once and not stored"
                )
            case .json, .yaml:
                let json = KeyJSON.render(created.key, secret: created.secret.text)
                print(output.output == .json ? json : try KeyListing.yaml(fromJSON: json))
            }
        } catch let error as StoreError {
            Console.error(error.reason)
            throw ExitCode(error.code == .unavailable ? 1 : 2)
        }
    }
}
