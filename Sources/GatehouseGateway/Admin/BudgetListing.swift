import Foundation
import GatehouseCore
import GatehouseStore

/// `GET /v1/budgets`: every budget in its current window, amounts as exact dollar strings.
struct BudgetListing: Encodable {
    struct Item: Encodable {
        let scope: String
        let period: String
        let windowStart: Date
        let limit: Cost
        let spent: Cost
        let reserved: Cost
        let remaining: Cost
    }

    let items: [Item]

    init(_ budgets: [BudgetStatus]) {
        items = budgets.map { budget in
            Item(
                scope: budget.scope,
                period: budget.period.rawValue,
                windowStart: Date(timeIntervalSince1970: Double(budget.windowStart)),
                limit: budget.limit,
                spent: budget.spent,
                reserved: budget.reserved,
                remaining: budget.remaining
            )
        }
    }
}
