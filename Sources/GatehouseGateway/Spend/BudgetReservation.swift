import Foundation
import GatehouseCore
import GatehouseStore

/// A request's reservation: the most it can cost, held in memory against this gateway's hold on each
/// budget window that applies (see `SpendLedger`).
struct BudgetReservation: Sendable {
    let budgets: [BudgetCharge]
    /// This gateway's hold on each budget's current window, in the order of `budgets`.
    let keys: [LedgerOperation.HoldKey]
    /// When each budget's window ends (Unix seconds), in the order of `budgets`.
    let windowEnds: [Int64]
    let amount: Cost
    let at: Date

    init(amount: Cost, budgets: [BudgetCharge], owner: String, at: Date) {
        let seconds = Int64(at.timeIntervalSince1970)
        let windows = budgets.map { $0.period.window(containing: seconds) }
        self.budgets = budgets
        keys = zip(budgets, windows).map {
            LedgerOperation.HoldKey(owner: owner, scope: $0.scope, windowStart: $1.start)
        }
        windowEnds = windows.map(\.end)
        self.amount = amount
        self.at = at
    }

    /// The ledger operations that charge `cost` to every budget (none for a zero cost).
    func charges(_ cost: Cost) -> [LedgerOperation] {
        cost > .zero ? keys.map { .charge($0, cost: cost) } : []
    }
}
