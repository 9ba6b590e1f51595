import Foundation
import GatehouseCore
import GatehouseTesting
import NIOCore
import NIOPosix
import Testing

@testable import GatehouseGateway
@testable import GatehouseStore

/// Rates and concurrency shared by replicas on one PostgreSQL store: three books, as three gateways
/// have, on one database.
@Suite struct SharedAllowanceTests {
    /// `count` books sharing a new PostgreSQL store, each its own gateway instance (whose lease the
    /// test renews, as a gateway's ledger does every second, when it runs for longer than one).
    static func replicas(_ count: Int) throws -> ([GatewayInstance], [QuotaBook]) {
        let store = try Store(location: try TestStore.location(.postgres))
        let instances = try (0..<count).map { _ in try GatewayInstance(store: store) }
        return (instances, instances.map { QuotaBook(shared: SharedAllowances(store: store, instance: $0)) })
    }

    static func demand(_ adjust: (inout Quota) -> Void) -> QuotaBook.Demand {
        var quota = Quota(name: "team", selector: .all)
        adjust(&quota)
        return QuotaBook.Demand(scope: QuotaBook.ScopeKey(quota: quota.name, identity: ""), quota: quota)
    }

    /// Asks every book `perBook` times at once; returns the admissions by book.
    static func burst(
        _ books: [QuotaBook],
        _ demand: QuotaBook.Demand,
        perBook: Int,
        tokens: Int = 0
    ) async throws -> [[QuotaBook.Admission]] {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        var futures: [[EventLoopFuture<QuotaBook.Admission>]] = Array(repeating: [], count: books.count)
        for _ in 0..<perBook {
            for (index, book) in books.enumerated() {
                futures[index].append(book.admit([demand], tokens: { _ in tokens }, on: loop).future(on: loop))
            }
        }
        var answers: [[QuotaBook.Admission]] = []
        for list in futures { answers.append(try await EventLoopFuture.whenAllSucceed(list, on: loop).get()) }
        return answers
    }

    static func admitted(_ answers: [QuotaBook.Admission]) -> [QuotaBook.Hold] {
        answers.compactMap { if case .admitted(let hold) = $0 { hold } else { nil } }
    }

    @Test func aGroupsRateHoldsOverEveryReplicaForTheWholeMinute() async throws {
        let (_, books) = try Self.replicas(3)
        let demand = Self.demand { $0.requestsPerMinute = 600 }
        // 900 at once over three replicas: never more than 600; a replica's grant can be short of its
        // waiting requests while another's is not all used, so a few may be refused that fit.
        let first = try await Self.burst(books, demand, perBook: 300)
        let admitted = first.map { Self.admitted($0).count }.reduce(0, +)
        #expect((450...600).contains(admitted))
        for answers in first {
            for case .refused(let limit, let retryAfter, _) in answers {
                #expect(limit == "600 requests per minute (quota team)")
                #expect((1...61).contains(retryAfter))
            }
        }
        // Seconds later, with what grants did not use given back, the rest of the 600 and not one more
        // in this minute (a bucket would have refilled 10 a second). A round can again leave a replica
        // refused while another's grant holds some of the rest, so the rest is asked for again, a lease
        // and a half apart, until all of it was admitted.
        var total = admitted
        try await Task.sleep(for: .seconds(1))
        for _ in 0..<5 where total < 600 {
            try await Task.sleep(for: .seconds(1.5))
            let later = try await Self.burst(books, demand, perBook: 100)
            total += later.map { Self.admitted($0).count }.reduce(0, +)
        }
        #expect(total == 600)
        try await Task.sleep(for: .seconds(1.5))
        let over = try await Self.burst(books, demand, perBook: 100)
        #expect(over.map { Self.admitted($0).count }.reduce(0, +) == 0)
    }

    /// Under load from several threads, every request the store has room for is admitted: a request
    /// that finds its grant used up by others while the store was asked (for another allowance) asks once
    /// more, where it was refused a limit of a billion tokens a minute.
    @Test func aRequestTheStoreHasRoomForIsNotRefused() async throws {
        let (_, books) = try Self.replicas(1)
        let demand = Self.demand {
            $0.requestsPerMinute = 100_000_000
            $0.tokensPerMinute = 1_000_000_000
        }
        let answers = try await withThrowingTaskGroup(of: [QuotaBook.Admission].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var answers: [QuotaBook.Admission] = []
                    for _ in 0..<10 { answers += try await Self.burst(books, demand, perBook: 100, tokens: 500)[0] }
                    return answers
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Self.admitted(answers).count == 4_000)
    }

    @Test func grantsNotUsedGoBackForTheOtherReplicas() async throws {
        let (_, books) = try Self.replicas(2)
        let demand = Self.demand { $0.requestsPerMinute = 100 }
        // The first replica's grants cover its 40 and some headroom; what it did not use goes back when
        // their lease ends, and the second then finds all the rest.
        let first = try await Self.burst([books[0]], demand, perBook: 40)
        #expect(Self.admitted(first[0]).count == 40)
        try await Task.sleep(for: .seconds(2))
        let second = try await Self.burst([books[1]], demand, perBook: 80)
        #expect(Self.admitted(second[0]).count == 60)
    }

    @Test func tokensAreTruedUpInTheirGrant() async throws {
        let (_, books) = try Self.replicas(2)
        let demand = Self.demand { $0.tokensPerMinute = 1000 }
        let first = try await Self.burst([books[0]], demand, perBook: 2, tokens: 400)
        let holds = Self.admitted(first[0])
        #expect(holds.count == 2)
        // Each used 12 of its 400; once the grant's lease is over what it did not use goes back.
        for hold in holds { books[0].finish(hold, usage: TokenUsage(input: 4, output: 8, estimated: false)) }
        try await Task.sleep(for: .seconds(2.5))
        let second = try await Self.burst([books[1]], demand, perBook: 3, tokens: 300)
        #expect(Self.admitted(second[0]).count == 3)
        let tooMuch = try await Self.burst([books[1]], demand, perBook: 1, tokens: 100)
        #expect(Self.admitted(tooMuch[0]).isEmpty)
        // One request charged more than the whole allowance never fits, and says so.
        let alone = try await Self.burst([books[0]], demand, perBook: 1, tokens: 1001)
        guard case .refused(let limit, _, _) = alone[0][0] else {
            Issue.record("a request over the whole allowance was admitted")
            return
        }
        #expect(limit.contains("this request alone is charged 1001"))
    }

    @Test func concurrencyIsCappedOverEveryReplicaAndSlotsMoveToWhereTheyAreNeeded() async throws {
        let (instances, books) = try Self.replicas(3)
        let demand = Self.demand { $0.maxConcurrent = 5 }
        let first = try await Self.burst(books, demand, perBook: 4)
        let holds = first.map(Self.admitted)
        #expect(holds.map(\.count).reduce(0, +) == 5)
        for answers in first {
            for case .refused(let limit, let retryAfter, _) in answers {
                #expect(limit == "5 concurrent requests (quota team)")
                #expect(retryAfter == 1)
            }
        }
        // The requests of the other replicas end; within two seconds their slots are free for the one
        // that had the fewest, and it runs five at once.
        let target = try #require(holds.indices.min { holds[$0].count < holds[$1].count })
        for (index, list) in holds.enumerated() where index != target {
            for hold in list { books[index].finish(hold, usage: nil) }
        }
        var admitted = holds[target].count
        #expect(admitted < 5)
        for _ in 0..<30 where admitted < 5 {
            try await Task.sleep(for: .milliseconds(200))
            for instance in instances { try instance.renew() }
            let again = try await Self.burst([books[target]], demand, perBook: 5 - admitted)
            admitted += Self.admitted(again[0]).count
        }
        #expect(admitted == 5)
        // And not one more.
        let over = try await Self.burst(books, demand, perBook: 1)
        #expect(over.map { Self.admitted($0).count }.reduce(0, +) == 0)
    }

    @Test func aLapsedReplicasSlotsCountUntilItIsSettledAndReturnsCountOnce() throws {
        let store = try Store(location: try TestStore.location(.postgres))
        let live = try GatewayInstance(store: store)
        try store.renewLease("lapsed", first: true, for: .milliseconds(300))
        func ask(
            _ owner: String,
            _ wanted: Double,
            returning returns: AllowanceReturns = AllowanceReturns()
        ) throws
            -> AllowanceGrant
        {
            let ask = AllowanceAsk(scope: "team", kind: .concurrent, capacity: 5, needed: 1, wanted: wanted)
            return try #require(
                try store.shareAllowances([ask], returning: returns, owner: owner, window: 61, lease: 1).first
            )
        }
        #expect(try ask("lapsed", 4).granted == 4)
        // Its lease runs out, but its requests may still run: its slots count until it is settled.
        Thread.sleep(forTimeInterval: 0.5)
        #expect(try ask(live.id, 5).granted == 1)
        #expect(try store.chargeAbandonedHolds(isRunning: live.isRunning) == 0)
        #expect(try ask(live.id, 5).granted == 4)
        #expect(throws: StoreError(.conflict, "")) { try store.renewLease("lapsed", first: false, for: .seconds(5)) }
        // What a gateway holds is told as it is now: told twice, it counts once.
        var returns = AllowanceReturns()
        returns.slots["team"] = 2
        #expect(try ask(live.id, 1, returning: returns).granted == 1)
        #expect(try ask(live.id, 5, returning: returns).granted == 3)
        let window = AllowanceAsk(scope: "team", kind: .requests, capacity: 10, needed: 1, wanted: 8)
        let grant = try #require(
            try store.shareAllowances([window], returning: AllowanceReturns(), owner: live.id, window: 61, lease: 1)
                .first
        )
        var used = AllowanceReturns()
        used.rows[try #require(grant.row)] = 3
        for _ in 0..<2 {
            let after = try store.shareAllowances([window], returning: used, owner: live.id, window: 61, lease: 1)
            #expect(after.first?.granted == 7)
            used.rows[try #require(after.first?.row)] = 0
        }
    }

    @Test func aStoreOutOfReachAdmitsNothing() async throws {
        let location = try TestStore.location(.postgres)
        let store = try Store(location: location)
        let book = QuotaBook(shared: SharedAllowances(store: store, instance: try GatewayInstance(store: store)))
        guard case .postgres(let postgres) = location else { return }
        try TestStore.Server.fromEnvironment().psql(
            "ALTER TABLE quota_window RENAME TO quota_window_gone",
            database: postgres.database
        )
        let answers = try await Self.burst([book], Self.demand { $0.requestsPerMinute = 10 }, perBook: 3)
        for answer in answers[0] {
            guard case .unavailable = answer else {
                Issue.record("admitted or refused without the store: \(answer)")
                continue
            }
        }
    }
}
