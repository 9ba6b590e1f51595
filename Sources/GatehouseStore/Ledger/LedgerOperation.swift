import Foundation
import GatehouseCore

/// One change to the spend ledger or the audit trail. Operations are applied in order, many to a
/// transaction (see `Store.apply(_:)`), each with its own outcome.
///
/// A running gateway does not reserve in the store request by request: it holds part of each budget
/// (a *hold*, one row per gateway and budget window, counted as reserved) and reserves requests against
/// it in memory. The store sees a hold grow when the gateway needs more, shrink by what requests cost
/// when they are charged, and shrink when the gateway gives back what it does not need. Every request a
/// gateway has forwarded and not yet charged is covered by its hold in the store, so a budget is never
/// overspent, by several gateways on one data directory or by one that is killed (its hold is charged).
public enum LedgerOperation: Sendable {
    /// Grows the owner's holds on every budget in `budgets`, all or none: refused when any budget cannot
    /// spare `needed`; otherwise each grows by `wanted` (at least `needed`), or by what the budget can spare.
    case hold(HoldRequest)
    /// Charges `cost` to the budget window out of the owner's hold there (never more than it holds).
    case charge(HoldKey, cost: Cost)
    /// Gives `amount` of the owner's hold back to the budget (never more than it holds).
    case release(HoldKey, amount: Cost)
    /// Appends a record to the hash-chained audit trail; `text` is its stored JSON when it was encoded
    /// already (for the journal). Boxed: operations are copied between arrays on their way to the
    /// store, and an entry is large.
    indirect case record(AuditEntry, text: String? = nil)
    /// Says the most the owner's requests in flight on a hold can cost (their reservations, plus what it
    /// may reserve before it says so again): a hold its gateway left behind is charged no more than this,
    /// the rest goes back to the budget. A hold that never had one is charged in full.
    case inFlight(HoldKey, bound: Cost)
    /// Notes that the store has every operation of the files of journal `journal` (a `LedgerJournal`
    /// name) up to `generation`, so they are never applied twice.
    case journalMoved(journal: String, generation: Int64)

    /// One gateway's hold on one budget window.
    public struct HoldKey: Sendable, Hashable {
        /// The `InstanceLock` id of the gateway.
        public var owner: String
        public var scope: String
        public var windowStart: Int64

        public init(owner: String, scope: String, windowStart: Int64) {
            self.owner = owner
            self.scope = scope
            self.windowStart = windowStart
        }
    }

    public struct HoldRequest: Sendable {
        public var owner: String
        public var budgets: [BudgetCharge]
        /// The least each hold must grow by (one per budget, in order).
        public var needed: [Cost]
        /// What each hold would like to grow by, for the requests to come.
        public var wanted: [Cost]
        /// When: picks each budget's window.
        public var at: Date

        public init(owner: String, budgets: [BudgetCharge], needed: [Cost], wanted: [Cost], at: Date) {
            self.owner = owner
            self.budgets = budgets
            self.needed = needed
            self.wanted = wanted
            self.at = at
        }
    }
}

/// What became of one ledger operation.
public enum LedgerOutcome: Sendable, Equatable {
    case done
    /// A hold grew: by how much, per budget in the request's order.
    case held([Cost])
    /// A hold that could not grow: the first budget that cannot spare what was needed.
    case refused(BudgetRefusal)
    /// The transaction failed; nothing of the batch was applied.
    case failed(StoreError)
}

/// Why a reservation was refused, in terms a caller can act on.
public struct BudgetRefusal: Sendable, Hashable {
    public var scope: String
    public var limit: Cost
    public var remaining: Cost
    /// What gateways' holds had reserved in the window: requests in flight and headroom, which may come
    /// back as they end.
    public var reserved: Cost
    /// When the budget's window starts again (Unix seconds); nil for a `total` budget.
    public var resetsAt: Int64?

    public init(scope: String, limit: Cost, remaining: Cost, reserved: Cost, resetsAt: Int64?) {
        self.scope = scope
        self.limit = limit
        self.remaining = remaining
        self.reserved = reserved
        self.resetsAt = resetsAt
    }

    /// Whether `amount` may fit once what is reserved comes back.
    public func mayFitLater(_ amount: Cost) -> Bool { remaining + reserved >= amount }
}
