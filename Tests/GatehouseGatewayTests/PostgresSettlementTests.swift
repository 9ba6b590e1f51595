import Foundation
import GatehouseCore
import GatehouseTesting
import Synchronization
import Testing

@testable import GatehouseStore

/// A gateway's settlements on PostgreSQL go in one statement (`PostgresDatabase.settle`), apart from
/// the transaction every other batch takes: it must leave exactly what that transaction leaves, and
/// stores writing the one trail at once must never fork it.
@Suite struct PostgresSettlementTests {
    static let owner = "gw"
    static let budgets = (0..<3).map {
        BudgetCharge(scope: "key:\($0)", period: .total, limit: Cost(picodollars: 1_000_000))
    }

    /// Random batches, most of them settlements, a few with a hold (the locked transaction) or a
    /// release before a charge of the same hold, applied to a PostgreSQL store and to an SQLite one
    /// (which has no such statement): holds, budgets and every audit column come out the same, and so
    /// do the chains' hashes, which depend on every record before.
    @Test func settlementsLeaveWhatTheTransactionLeaves() throws {
        let postgres = try Store(location: try TestStore.location(.postgres))
        let sqlite = try Store(location: try TestStore.location(.sqlite))
        var random = SeededGenerator(seed: 17)
        let now = Date()
        let grow = LedgerOperation.hold(
            .init(
                owner: Self.owner,
                budgets: Self.budgets,
                needed: Self.budgets.map { _ in Cost(picodollars: 10_000) },
                wanted: Self.budgets.map { _ in Cost(picodollars: 40_000) },
                at: now
            )
        )
        var sequence = 0
        for round in 0..<60 {
            var operations: [LedgerOperation] = round % 10 == 0 ? [grow] : []
            for _ in 0..<Int.random(in: 0...6, using: &random) {
                let key = LedgerOperation.HoldKey(
                    owner: Self.owner,
                    scope: "key:\(Int.random(in: 0..<4, using: &random))",  // key:3 has no hold
                    windowStart: 0
                )
                let amount = Cost(picodollars: Int64.random(in: 0...9_000, using: &random))
                switch Int.random(in: 0..<3, using: &random) {
                case 0: operations.append(.charge(key, cost: amount))
                case 1: operations.append(.release(key, amount: amount))
                default: operations.append(.inFlight(key, bound: amount))
                }
            }
            for _ in 0..<Int.random(in: 0...20, using: &random) {
                sequence += 1
                operations.append(.record(Self.entry(sequence, using: &random)))
            }
            operations.shuffle(using: &random)
            let expected = sqlite.apply(operations)
            #expect(postgres.apply(operations) == expected, "round \(round)")
        }
        let holds = "SELECT owner, scope, window_start, amount_pusd, in_flight_pusd FROM budget_hold ORDER BY scope"
        let windows = "SELECT scope, spent_pusd, reserved_pusd FROM budget_window ORDER BY scope"
        let audit = """
            SELECT seq, request_id, identity, model, decision, status, tokens_in, tokens_out, estimated, cost_pusd,
                record, previous_hash, hash
            FROM audit ORDER BY seq
            """
        for sql in [holds, windows, audit] {
            let expected = try sqlite.read { db in try db.rows(sql).map(\.values) }
            #expect(try postgres.read { db in try db.rows(sql).map(\.values) } == expected)
        }
        #expect(try postgres.verifyAudit().records == sequence)
        #expect(try postgres.verifyAudit().firstBreak == nil)
        // The nulls survived the arrays, which carry none.
        let nulls = "SELECT count(*) FROM audit WHERE identity IS NULL AND model IS NULL AND cost_pusd IS NULL"
        let absent: Int64? = try postgres.read { db in try db.value(nulls) }
        #expect(absent ?? 0 > 0)
        #expect(absent == (try sqlite.read { db in try db.value(nulls) }))
    }

    /// Two stores on one database, as two replicas: each goes on from where it left the trail only while
    /// nobody else wrote, and one that finds it was not the last writer still lands its batch, after the
    /// record the other wrote. Then both write at once from two threads.
    @Test func storesTakingTurnsNeverForkTheTrail() async throws {
        let location = try TestStore.location(.postgres)
        let first = try Store(location: location)
        let second = try Store(location: location)
        var random = SeededGenerator(seed: 5)
        var count = 0
        func write(_ store: Store, records: Int) -> [LedgerOutcome] {
            store.apply(
                (0..<records).map { _ in
                    count += 1
                    return .record(Self.entry(count, using: &random))
                }
            )
        }
        func trusted(_ store: Store) -> Bool? {
            (store.database as? PostgresDatabase)?.chainHint.withLock { $0?.trusted }
        }
        #expect(write(first, records: 3).allSatisfy { $0 == .done })
        #expect(trusted(first) == false)
        #expect(write(first, records: 3).allSatisfy { $0 == .done })
        #expect(trusted(first) == true)
        #expect(write(second, records: 2).allSatisfy { $0 == .done })
        // The first goes on from a head that is no longer the newest: its first record's number is
        // taken, and the batch lands after the second's records.
        #expect(write(first, records: 4).allSatisfy { $0 == .done })
        #expect(trusted(first) == false)
        #expect(try first.verifyAudit().records == count)

        let batches = 150
        let before = count
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for store in [first, second] {
                group.addTask {
                    var random = SeededGenerator(seed: 9)
                    return (0..<batches).allSatisfy { index in
                        let outcomes = store.apply((0..<3).map { _ in .record(Self.entry(index, using: &random)) })
                        return outcomes.allSatisfy { $0 == .done }
                    }
                }
            }
            for try await landed in group { #expect(landed) }
        }
        let verification = try second.verifyAudit()
        #expect(verification.records == before + 2 * batches * 3)
        #expect(verification.firstBreak == nil)
    }

    /// The trail's newest records taken back behind a store's back (a database restored while gateways
    /// ran): the store does not follow a head that is gone, it reads the head and goes on from there.
    @Test func aHeadTakenBackIsNotFollowed() throws {
        let location = try TestStore.location(.postgres)
        let store = try Store(location: location)
        var random = SeededGenerator(seed: 3)
        for batch in 0..<3 {
            #expect(
                store.apply((0..<4).map { .record(Self.entry(batch * 4 + $0, using: &random)) }).allSatisfy {
                    $0 == .done
                }
            )
        }
        #expect((store.database as? PostgresDatabase)?.chainHint.withLock { $0?.trusted } == true)
        try StoreBackendTests.tamper(location, "DELETE FROM audit WHERE seq > 10")
        #expect(store.apply((12..<15).map { .record(Self.entry($0, using: &random)) }).allSatisfy { $0 == .done })
        let verification = try store.verifyAudit()
        #expect(verification.firstBreak == nil)
        #expect(verification.records == 13)
    }

    /// A record's hash is SHA-256 of the previous hash, a newline and its text, as any tool can check it
    /// (this value is Python's `hashlib`): the chain every store ever wrote still verifies.
    @Test func aRecordsHashIsTheDocumentedOne() {
        let hash = AuditChain.hash(previous: AuditChain.origin, text: #"{"requestID":"é"}"#)
        #expect(hash == "5d9c5529f52feffecb7ae7d7d1bf64f3809ad62f0ca9ad067acdedae381929bd")
    }

    /// A record with some fields absent (about one in three of each), so the statement's nulls are used.
    static func entry(_ index: Int, using random: inout SeededGenerator) -> AuditEntry {
        var entry = StoreBackendTests.entry(index, identity: "caller-\(index % 5)", cost: Int64(index) * 1_000)
        if Int.random(in: 0..<3, using: &random) == 0 {
            entry.identity = nil
            entry.model = nil
            entry.cost = nil
        }
        entry.tokensIn = Int.random(in: 0..<3, using: &random) == 0 ? nil : index * 3
        entry.tokensOut = Int.random(in: 0..<3, using: &random) == 0 ? nil : index
        entry.tokensEstimated = index % 2 == 0 ? true : nil
        return entry
    }
}
