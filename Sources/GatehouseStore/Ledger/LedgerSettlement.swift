import Foundation
import GatehouseCore

/// A batch of ledger operations that only settles what one gateway's requests did: charges and releases
/// out of its holds, the bounds of what it has in flight, and audit records. Nothing in it reads what it
/// must decide on (a hold that grows checks what a budget can spare): on PostgreSQL it is applied in one
/// statement (`PostgresDatabase.settle`), the shape of nearly every batch a busy gateway sends.
struct LedgerSettlement {
    /// What happens to one hold: `spend` charged out of it, then `give` given back, both at most what it
    /// holds, as `Store.apply` takes them one operation after another; and its new bound, if any.
    struct Move {
        var scope: String
        var windowStart: Int64
        var spend = Cost.zero
        var give = Cost.zero
        var bound: Cost?
    }

    let owner: String
    let moves: [Move]
    let records: [(entry: AuditEntry, text: String?)]

    /// The batch `operations` make, applied in order; nil when one of them is not a settlement, when
    /// they name more than one owner, when an amount is negative (summed, it would cancel another), or
    /// when a hold is given back before it is charged in the batch (summed per hold, the charge would
    /// take first what the release had given back).
    init?(_ operations: [LedgerOperation]) {
        var owner: String?
        var moves: [Move] = []
        var records: [(entry: AuditEntry, text: String?)] = []
        var index: [LedgerOperation.HoldKey: Int] = [:]
        func move(_ key: LedgerOperation.HoldKey, into moves: inout [Move]) -> Int? {
            guard owner == nil || owner == key.owner else { return nil }
            owner = key.owner
            if let known = index[key] { return known }
            index[key] = moves.count
            moves.append(Move(scope: key.scope, windowStart: key.windowStart))
            return moves.count - 1
        }
        for operation in operations {
            switch operation {
            case .charge(let key, let cost):
                guard cost >= .zero, let at = move(key, into: &moves), moves[at].give == .zero else { return nil }
                moves[at].spend += cost
            case .release(let key, let amount):
                guard amount >= .zero, let at = move(key, into: &moves) else { return nil }
                moves[at].give += amount
            case .inFlight(let key, let bound):
                guard bound >= .zero, let at = move(key, into: &moves) else { return nil }
                moves[at].bound = bound
            case .record(let entry, let text):
                records.append((entry, text))
            case .hold, .journalMoved:
                return nil
            }
        }
        self.owner = owner ?? ""
        self.moves = moves
        self.records = records
    }
}
