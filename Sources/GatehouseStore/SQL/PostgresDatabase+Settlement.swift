import Foundation
import GatehouseCore
import PostgresNIO
import Synchronization

/// Where a store last left the audit trail, and whether it may take that it is still the newest record.
struct ChainHint: Sendable {
    var left: AuditChain.Head
    /// Set when the store found the trail as it had left it (nobody else writes between its batches, as
    /// with one gateway); cleared when it did not.
    var trusted: Bool
}

extension PostgresDatabase {
    /// Applies a settlement in one statement (false for operations that are not one): a gateway's batch costs one round trip, not a transaction
    /// of a statement per hold, per 64 records and per bound, each a round trip waited for on the
    /// ledger's thread while every complete answer of the batch waits for the commit.
    ///
    /// The statement takes the write lock before it changes anything (every part of it reads the lock
    /// first), but its snapshot is older than the lock: it locks the holds it reads, which gives it
    /// their current amounts, its updates add to what the rows have when it writes them, and its records
    /// follow the head the store last left. When that head may be stale, the statement
    /// runs in a locked transaction after reading the head; when it was stale anyway, the first record's
    /// sequence number is taken (the trail's primary key), or the head is no longer there: the
    /// statement fails as a whole and the batch is applied again, locked. The records of one trail are
    /// never forked, and a transaction that holds the lock never finds a record it did not read.
    func settle(_ operations: [LedgerOperation]) throws -> Bool {
        guard let settlement = LedgerSettlement(operations) else { return false }
        if let head = chainHint.withLock({ $0?.trusted == true ? $0?.left : nil }) {
            var chain = AuditChain(head: head)
            let statement = Self.statement(settlement, chain: &chain)
            do {
                try withSession { session in try session.run(statement) }
                chainHint.withLock { $0 = ChainHint(left: chain.head, trusted: true) }
                return true
            } catch let error as PSQLError where Self.staleHead.contains(error.serverInfo?[.sqlState] ?? "") {
                chainHint.withLock { $0?.trusted = false }
            }
        }
        let (found, left) = try locked { session in
            let found = try AuditChain.head(in: session)
            var chain = AuditChain(head: found)
            try session.run(Self.statement(settlement, chain: &chain))
            return (found, chain.head)
        }
        noteChain(found: found, left: left)
        return true
    }

    /// Notes that a locked transaction found the trail's head at `found` and left it at `left`: the
    /// next settlement may take `left` as the head if `found` was where this store had left it.
    func noteChain(found: AuditChain.Head, left: AuditChain.Head) {
        chainHint.withLock { hint in hint = ChainHint(left: left, trusted: hint?.left == found) }
    }

    /// What the statement fails with when the head it follows is not the newest record: a duplicate key
    /// (someone wrote after it) or a null sequence number (it is gone: the trail's newest records were
    /// taken back, as by restoring the database while gateways ran).
    private static let staleHead: Set<String> = ["23505", "23502"]

    /// The settlement as one statement, its records chained after `chain`'s head. Absent values are
    /// marked in `nulls` (arrays here carry none): identity 1, model 2, tokens in 4, tokens out 8, cost 16.
    private static func statement(_ settlement: LedgerSettlement, chain: inout AuditChain) -> SettlementStatement {
        var bindings = PostgresBindings(capacity: 24)
        let start = chain.head
        bindings.append(settlement.owner)
        bindings.append(settlement.moves.map(\.scope))
        bindings.append(settlement.moves.map(\.windowStart))
        bindings.append(settlement.moves.map(\.spend.picodollars))
        bindings.append(settlement.moves.map(\.give.picodollars))
        bindings.append(settlement.moves.map { $0.bound?.picodollars ?? -1 })
        let entries = settlement.records.map(\.entry)
        let links = settlement.records.map { chain.link($0.entry, text: $0.text) }
        bindings.append(links.map(\.sequence))
        bindings.append(entries.map(\.time.timeIntervalSince1970))
        bindings.append(entries.map(\.requestID))
        bindings.append(entries.map { $0.identity ?? "" })
        bindings.append(entries.map { $0.model ?? "" })
        bindings.append(entries.map(\.decision.rawValue))
        bindings.append(entries.map { Int64($0.status) })
        bindings.append(entries.map { Int64($0.tokensIn ?? 0) })
        bindings.append(entries.map { Int64($0.tokensOut ?? 0) })
        bindings.append(entries.map { Int64($0.tokensEstimated == true ? 1 : 0) })
        bindings.append(entries.map { $0.cost?.picodollars ?? 0 })
        bindings.append(links.map(\.text))
        bindings.append(links.map(\.previousHash))
        bindings.append(links.map(\.hash))
        bindings.append(
            entries.map { entry -> Int64 in
                (entry.identity == nil ? 1 : 0) | (entry.model == nil ? 2 : 0) | (entry.tokensIn == nil ? 4 : 0)
                    | (entry.tokensOut == nil ? 8 : 0) | (entry.cost == nil ? 16 : 0)
            }
        )
        bindings.append(Self.writeLock)
        bindings.append(start.sequence)
        bindings.append(start.hash)
        return SettlementStatement(bindings: bindings)
    }

    private struct SettlementStatement: PostgresPreparedStatement {
        static let name = "gatehouse_settle"
        static let sql = settlementSQL
        let bindings: PostgresBindings

        func makeBindings() -> PostgresBindings { bindings }
        func decodeRow(_ row: PostgresRow) {}
    }

    /// Charges and gives back out of holds (each at most what the hold has, the charge first), sets the
    /// holds' bounds (-1: unchanged), moves the same amounts in the budget windows, and appends the
    /// records, under the write lock; the records only while the head they follow ($23, $24) is in the
    /// trail (else their sequence numbers are null, an error). Every part is a statement of one `WITH`,
    /// so the whole is atomic without a transaction.
    private static let settlementSQL = """
        WITH locked AS MATERIALIZED (SELECT pg_advisory_xact_lock($22)),
        moved AS (
            SELECT t.scope, t.window_start, t.bound,
                LEAST(t.spend, b.amount_pusd) AS spent,
                LEAST(t.give, b.amount_pusd - LEAST(t.spend, b.amount_pusd)) AS given
            FROM locked, unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[])
                AS t (scope, window_start, spend, give, bound)
            JOIN budget_hold b ON b.owner = $1 AND b.scope = t.scope AND b.window_start = t.window_start
            FOR UPDATE OF b
        ),
        held AS (
            UPDATE budget_hold h
            SET amount_pusd = h.amount_pusd - m.spent - m.given,
                in_flight_pusd = CASE WHEN m.bound < 0 THEN h.in_flight_pusd ELSE m.bound END
            FROM moved m
            WHERE h.owner = $1 AND h.scope = m.scope AND h.window_start = m.window_start
            RETURNING m.scope, m.window_start, m.spent, m.given
        ),
        budgets AS (
            UPDATE budget_window w
            SET reserved_pusd = w.reserved_pusd - h.spent - h.given, spent_pusd = w.spent_pusd + h.spent
            FROM held h
            WHERE w.scope = h.scope AND w.window_start = h.window_start
        )
        INSERT INTO audit (
            seq, time, request_id, identity, model, decision, status, tokens_in, tokens_out, estimated,
            cost_pusd, record, previous_hash, hash
        )
        SELECT CASE WHEN $23::bigint = 0 OR EXISTS (SELECT 1 FROM audit WHERE seq = $23 AND hash = $24::text)
                THEN r.seq END,
            r.time, r.request_id,
            CASE WHEN r.nulls & 1 = 0 THEN r.identity END, CASE WHEN r.nulls & 2 = 0 THEN r.model END,
            r.decision, r.status,
            CASE WHEN r.nulls & 4 = 0 THEN r.tokens_in END, CASE WHEN r.nulls & 8 = 0 THEN r.tokens_out END,
            r.estimated, CASE WHEN r.nulls & 16 = 0 THEN r.cost END, r.record, r.previous_hash, r.hash
        FROM locked, unnest(
            $7::bigint[], $8::float8[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bigint[],
            $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], $18::text[], $19::text[], $20::text[],
            $21::bigint[]
        ) AS r (
            seq, time, request_id, identity, model, decision, status, tokens_in, tokens_out, estimated, cost,
            record, previous_hash, hash, nulls
        )
        """
}
