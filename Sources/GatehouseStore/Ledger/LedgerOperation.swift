import Foundation
import GatehouseCore

/// One change to the spend ledger or the audit trail. Operations are applied in order, many to a
/// transaction (see `Store.apply(_:)`), each with its own outcome.
public enum LedgerOperation: Sendable {
    /// Holds `amount` against every budget in `budgets`, all or none: refused when any would go over.
    case reserve(Reservation)
    /// Charges `cost` (at most what was reserved) and releases the rest of the ticket's reservation.
    case settle(ticket: String, cost: Cost)
    /// Appends a record to the hash-chained audit trail.
    case record(AuditEntry)

    public struct Reservation: Sendable {
        /// The ledger's own id for the request (request ids come from clients and may repeat).
        public var ticket: String
        public var amount: Cost
        public var budgets: [BudgetCharge]
        public var requestID: String
        public var identity: String
        public var model: String
        public var at: Date
        /// The `InstanceLock` id of the gateway holding it (set by the ledger).
        public var owner: String = ""

        public init(
            ticket: String,
            amount: Cost,
            budgets: [BudgetCharge],
            requestID: String,
            identity: String,
            model: String,
            at: Date
        ) {
            self.ticket = ticket
            self.amount = amount
            self.budgets = budgets
            self.requestID = requestID
            self.identity = identity
            self.model = model
            self.at = at
        }
    }
}

/// What became of one ledger operation.
public enum LedgerOutcome: Sendable, Equatable {
    case done
    /// A reservation that did not fit: the first budget it would overspend.
    case refused(BudgetRefusal)
    /// The transaction failed; nothing of the batch was applied.
    case failed(StoreError)
}

/// Why a reservation was refused, in terms a caller can act on.
public struct BudgetRefusal: Sendable, Hashable {
    public var scope: String
    public var limit: Cost
    public var remaining: Cost
    /// When the budget's window starts again (Unix seconds); nil for a `total` budget.
    public var resetsAt: Int64?

    public init(scope: String, limit: Cost, remaining: Cost, resetsAt: Int64?) {
        self.scope = scope
        self.limit = limit
        self.remaining = remaining
        self.resetsAt = resetsAt
    }
}
