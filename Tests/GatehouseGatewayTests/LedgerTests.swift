import Foundation
import GRDB
import GatehouseCore
import GatehouseStore
import GatehouseTesting
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import GatehouseGateway

/// The ledger against its store: records read back as written, and a locked database neither loses
/// nor double-counts a charge.
@Suite struct LedgerTests {
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appending(path: "gatehouse-test-\(UUID().uuidString)")
    }

    /// A gateway's ledger on `store`, as `serve` makes it, but for a reservation's wait for reserved
    /// money to come back: `budgetWait`.
    static func ledger(_ store: Store, budgetWait: Duration = .milliseconds(500)) throws -> SpendLedger {
        try SpendLedger(
            store: store,
            instance: try GatewayInstance(store: store),
            logger: Logger(label: "test"),
            budgetWait: { budgetWait }
        )
    }

    /// The budget (the first, or `scope`'s) once nothing of it is reserved any more: charges reach the
    /// store just after the requests end, and holds are given back once two seconds passed without
    /// requests. As it is after 5 s if that never happens.
    static func settled(_ store: Store, scope: String? = nil) async throws -> BudgetStatus? {
        var status = try store.budgets().first { scope == nil || $0.scope == scope }
        for _ in 0..<100 where status?.reserved != .zero {
            try await Task.sleep(for: .milliseconds(50))
            status = try store.budgets().first { scope == nil || $0.scope == scope }
        }
        return status
    }

    @Test func auditRecordsReadBackExactlyAsWritten() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(directory: directory)
        var entry = AuditEntry(
            time: Date(timeIntervalSince1970: 1_795_780_800.25),
            requestID: "id-\"quoted\"\n",
            route: "/v1/chat/completions",
            decision: .allow,
            status: 200
        )
        entry.identity = "ålice"
        entry.identityLabels = ["team": "search", "gatehouse.io/auth": "api-key"]
        entry.authentication = "api-key"
        entry.keyID = "abcd1234"
        entry.client = "127.0.0.1:5000"
        entry.model = "fixture-small"
        entry.upstream = "http://127.0.0.1:1"
        entry.reason = .recorded("tab\there \u{1}")
        entry.trace = "default/allow-all: Allow"
        entry.findings = [GuardrailFinding(direction: .prompt, detector: "email", offset: 12)]
        entry.tokensIn = 10
        entry.tokensOut = 20
        entry.tokensEstimated = true
        entry.cost = Cost(dollars: "0.000123")
        entry.latencyMilliseconds = 12.5
        entry.timeToFirstTokenMilliseconds = 3.25
        #expect(
            store.apply([
                .record(entry),
                .record(AuditEntry(time: entry.time, requestID: "b", route: "/", decision: .deny, status: 404)),
            ]) == [.done, .done]
        )
        let records = try store.auditRecords(AuditQuery())
        #expect(records.count == 2)
        #expect(records[0].entry == entry)
        #expect(records[1].previousHash == records[0].hash)
        #expect(try store.verifyAudit().intact)
    }

    @Test func aLockedStoreFailsHoldsAndKeepsChargesUntilTheyLand() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(directory: directory, busyTimeout: 0.2)
        let budget = BudgetCharge(scope: "team", period: .total, limit: Cost(dollars: "1")!)
        let ledger = try Self.ledger(store)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let one = ledger.reservation(of: Cost(dollars: "0.5")!, against: [budget])
        #expect(try await ledger.reserve(one, on: loop).get() == .done)
        #expect(try store.budgets().first?.reserved == Cost(dollars: "0.5"))

        // Another process holds the write lock (as a backup or a second tool might).
        let other = try DatabaseQueue(path: directory.appending(path: Store.fileName).path)
        let locked = DispatchSemaphore(value: 0)
        let unlock = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? other.inTransaction(.immediate) { _ in
                locked.signal()
                unlock.wait()
                return .rollback
            }
        }
        locked.wait()
        // The hold covers only the request in flight, so a second one needs the store: it fails.
        let two = ledger.reservation(of: Cost(dollars: "0.25")!, against: [budget])
        let refused = try await ledger.reserve(two, on: loop).get()
        guard case .failed = refused else {
            Issue.record("a reservation against a locked store must fail, was \(refused)")
            return
        }
        var entry = AuditEntry(
            time: Date(),
            requestID: "one",
            route: "/v1/chat/completions",
            decision: .allow,
            status: 200
        )
        entry.cost = Cost(dollars: "0.2")!
        // Durable in the gateway's journal at once; in the store once it can be written.
        #expect(try await ledger.finish(one, cost: Cost(dollars: "0.2")!, record: entry, on: loop).get() == .done)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try store.budgets().first?.spent == .zero)
        unlock.signal()

        // The charge lands once the lock is gone: charged once, the hold given back, recorded once.
        let status = try await Self.settled(store)
        #expect(status?.reserved == .zero)
        #expect(status?.spent == Cost(dollars: "0.2"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try store.budgets().first?.spent == Cost(dollars: "0.2"))
        #expect(try store.auditRecords(AuditQuery()).map(\.entry.requestID) == ["one"])
        try other.close()
    }

    @Test(arguments: TestStore.Backend.allCases)
    func holdsGrowWithTheRequestsInFlightAndNeverPastTheBudget(backend: TestStore.Backend) async throws {
        let store = try Store(location: try TestStore.location(backend))
        let budget = BudgetCharge(scope: "team", period: .day, limit: Cost(dollars: "1")!)
        let ledger = try Self.ledger(store)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let worst = Cost(dollars: "0.03")!
        // 40 at once: 33 fit in the dollar (33 x 0.03 = 0.99), whatever the order the holds grow in.
        let reservations = (0..<40).map { _ in ledger.reservation(of: worst, against: [budget]) }
        let outcomes = try await EventLoopFuture.whenAllSucceed(
            reservations.map { ledger.reserve($0, on: loop).future(on: loop) },
            on: loop
        ).get()
        #expect(outcomes.filter { $0 == .done }.count == 33)
        #expect(outcomes.filter { if case .refused = $0 { true } else { false } }.count == 7)
        let held = try #require(try store.budgets().first)
        #expect(held.reserved <= held.limit)
        #expect(held.reserved >= worst * 33)
        // Each charged at a third of its worst case: the holds are given back as requests end.
        let admitted = zip(reservations, outcomes).filter { $0.1 == .done }.map(\.0)
        for reservation in admitted {
            _ = try await ledger.finish(reservation, cost: Cost(dollars: "0.01")!, record: nil, on: loop).get()
        }
        let status = try await Self.settled(store)
        #expect(status?.reserved == .zero)
        #expect(status?.spent == Cost(dollars: "0.33"))
        // What is left fits 22 more, and no more.
        let more = (0..<30).map { _ in ledger.reservation(of: worst, against: [budget]) }
        let again = try await EventLoopFuture.whenAllSucceed(
            more.map { ledger.reserve($0, on: loop).future(on: loop) },
            on: loop
        ).get()
        #expect(again.filter { $0 == .done }.count == 22)
    }

    @Test func aKilledReplicaIsChargedItsRequestsInFlightNotItsHeadroom() async throws {
        let store = try Store(location: try TestStore.location(.postgres))
        let budget = BudgetCharge(scope: "team", period: .total, limit: Cost(dollars: "10")!)
        let ledger = try Self.ledger(store)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let worst = Cost(dollars: "0.01")!
        func wave(_ count: Int) async throws -> [BudgetReservation] {
            let reservations = (0..<count).map { _ in ledger.reservation(of: worst, against: [budget]) }
            let outcomes = try await EventLoopFuture.whenAllSucceed(
                reservations.map { ledger.reserve($0, on: loop).future(on: loop) },
                on: loop
            ).get()
            #expect(outcomes.allSatisfy { $0 == .done })
            return reservations
        }
        // A wave that ends, then one in flight: the hold keeps headroom for waves like them.
        for reservation in try await wave(20) {
            _ = try await ledger.finish(reservation, cost: Cost(dollars: "0.005")!, record: nil, on: loop).get()
        }
        _ = try await wave(20)
        let before = try #require(try store.budgets().first)
        #expect(before.reserved > worst * 20)
        // The replica is killed now: the others charge what its 20 requests in flight could cost, plus
        // the margin it may reserve before telling the store (about as much as was in flight lately),
        // never less, and give the rest of the headroom back.
        #expect(try store.chargeAbandonedHolds(isRunning: { _ in false }) == 1)
        let after = try #require(try store.budgets().first)
        let charged = after.spent - before.spent
        #expect(charged >= worst * 20)
        #expect(charged < before.reserved, "charged \(charged) of the \(before.reserved) held")
        #expect(after.reserved == .zero)
    }

    @Test(arguments: TestStore.Backend.allCases)
    func aReservationWaitsOnlyWhileWhatIsReservedCouldStillMakeRoom(backend: TestStore.Backend) async throws {
        let store = try Store(location: try TestStore.location(backend))
        let budget = BudgetCharge(scope: "team", period: .total, limit: Cost(dollars: "1")!)
        let ledger = try Self.ledger(store, budgetWait: .milliseconds(500))
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let first = ledger.reservation(of: Cost(dollars: "0.6")!, against: [budget])
        #expect(try await ledger.reserve(first, on: loop).get() == .done)
        // 0.6 more fits once the first ends (it may cost less): the second waits for that, up to the wait.
        var started = ContinuousClock.now
        let second = try await ledger.reserve(
            ledger.reservation(of: Cost(dollars: "0.6")!, against: [budget]),
            on: loop
        )
        .get()
        let waited = ContinuousClock.now - started
        guard case .refused(let refusal) = second else {
            Issue.record("\(second)")
            return
        }
        #expect(refusal.remaining == Cost(dollars: "0.4") && refusal.reserved == Cost(dollars: "0.6"))
        #expect(waited >= .milliseconds(500) && waited < .seconds(2), "waited \(waited)")
        // More than the whole budget can never fit: refused at once.
        started = ContinuousClock.now
        let third = try await ledger.reserve(ledger.reservation(of: Cost(dollars: "1.1")!, against: [budget]), on: loop)
            .get()
        #expect(ContinuousClock.now - started < .milliseconds(300))
        guard case .refused = third else {
            Issue.record("\(third)")
            return
        }
        // A waiting reservation is admitted as soon as what it waits for ends.
        let fourth = ledger.reserve(ledger.reservation(of: Cost(dollars: "0.6")!, against: [budget]), on: loop)
        try await Task.sleep(for: .milliseconds(100))
        _ = try await ledger.finish(first, cost: Cost(dollars: "0.3")!, record: nil, on: loop).get()
        #expect(try await fourth.get() == .done)
    }

    @Test(arguments: TestStore.Backend.allCases)
    func aReservationWaitingForBudgetIsRefusedAtShutdown(backend: TestStore.Backend) async throws {
        let store = try Store(location: try TestStore.location(backend))
        let budget = BudgetCharge(scope: "team", period: .total, limit: Cost(dollars: "1")!)
        let ledger = try Self.ledger(store, budgetWait: .seconds(30))
        let service = Task { try await ledger.run() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let first = ledger.reservation(of: Cost(dollars: "0.6")!, against: [budget])
        #expect(try await ledger.reserve(first, on: loop).get() == .done)
        let waiting = ledger.reserve(ledger.reservation(of: Cost(dollars: "0.6")!, against: [budget]), on: loop)
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        service.cancel()
        guard case .refused = try await waiting.get() else {
            Issue.record("a reservation waiting at shutdown was not refused")
            return
        }
        #expect(ContinuousClock.now - started < .seconds(2))
        // One refused while the ledger stops does not wait either.
        let late = try await ledger.reserve(
            ledger.reservation(of: Cost(dollars: "0.6")!, against: [budget]),
            on: loop
        )
        .get()
        guard case .refused = late else {
            Issue.record("\(late)")
            return
        }
        _ = try await ledger.finish(first, cost: Cost(dollars: "0.1")!, record: nil, on: loop).get()
        _ = try? await service.value
    }

    @Test(arguments: TestStore.Backend.allCases)
    func piecesOfABudgetHeldByTwoGatewaysArePutTogether(backend: TestStore.Backend) async throws {
        let store = try Store(location: try TestStore.location(backend))
        let budget = BudgetCharge(scope: "team", period: .total, limit: Cost(dollars: "1")!)
        let gateways = try (0..<2).map { _ in try Self.ledger(store, budgetWait: .seconds(1)) }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // Each gateway keeps 0.35 of its first request's 0.45, and 0.1 is left in the budget: 0.5 more fits
        // only in pieces from both.
        for gateway in gateways {
            let reservation = gateway.reservation(of: Cost(dollars: "0.45")!, against: [budget])
            #expect(try await gateway.reserve(reservation, on: loop).get() == .done)
            _ = try await gateway.finish(reservation, cost: Cost(dollars: "0.1")!, record: nil, on: loop).get()
        }
        let asks = gateways.map { $0.reserve($0.reservation(of: Cost(dollars: "0.5")!, against: [budget]), on: loop) }
        var outcomes: [LedgerOutcome] = []
        for ask in asks { outcomes.append(try await ask.get()) }
        #expect(outcomes.filter { $0 == .done }.count == 1, "\(outcomes)")
        #expect(try store.budgets().first?.spent == Cost(dollars: "0.2"))
    }

    @Test(arguments: TestStore.Backend.allCases)
    func aBurstWaitsForReservedMoneyAndIsAdmittedAsFarAsTheBudgetGoes(backend: TestStore.Backend) async throws {
        let store = try Store(location: try TestStore.location(backend))
        let budget = BudgetCharge(scope: "team", period: .total, limit: Cost(dollars: "1")!)
        let ledger = try Self.ledger(store, budgetWait: .seconds(5))
        let service = Task { try await ledger.run() }
        defer { service.cancel() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // 200 at once, each reserving 0.03 and costing 0.01: their worst cases fit 33 at a time, what
        // they cost fits 100. Each request ends 20 ms after it is admitted.
        let worst = Cost(dollars: "0.03")!
        let outcomes = try await withThrowingTaskGroup(of: LedgerOutcome.self) { group in
            for _ in 0..<200 {
                group.addTask {
                    let reservation = ledger.reservation(of: worst, against: [budget])
                    let outcome = try await ledger.reserve(reservation, on: loop).get()
                    if outcome == .done {
                        try await Task.sleep(for: .milliseconds(20))
                        _ = try await ledger.finish(reservation, cost: Cost(dollars: "0.01")!, record: nil, on: loop)
                            .get()
                    }
                    return outcome
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let admitted = outcomes.filter { $0 == .done }.count
        // All that fits, less the last two (0.98 spent leaves less than one worst case).
        #expect((98...100).contains(admitted), "\(admitted) admitted")
        #expect(outcomes.filter { if case .refused = $0 { true } else { false } }.count == 200 - admitted)
        let status = try await Self.settled(store)
        #expect(status?.spent == Cost(dollars: "0.01")! * admitted)
        #expect(status?.reserved == .zero)
    }

    @Test func aDeadGatewaysJournalIsReplayedOnceThenItsHoldsCharged() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(directory: directory)
        let charge = BudgetCharge(scope: "team", period: .total, limit: Cost(dollars: "10")!)
        var dead: InstanceLock? = try InstanceLock(directory: directory)
        let owner = dead!.id
        let held = store.apply([
            .hold(.init(owner: owner, budgets: [charge], needed: [Cost(dollars: "1")!], wanted: [.zero], at: Date()))
        ])
        #expect(held == [.held([Cost(dollars: "1")!])])
        // What the gateway made durable in its journal before it died: two requests charged and recorded,
        // some headroom given back, and a last line the crash cut short.
        let key = LedgerOperation.HoldKey(owner: owner, scope: "team", windowStart: 0)
        var journal: LedgerJournal? = try LedgerJournal(directory: directory, owner: owner, stream: 1)
        var first = AuditEntry(
            time: Date(),
            requestID: "first",
            route: "/v1/chat/completions",
            decision: .allow,
            status: 200
        )
        first.cost = Cost(dollars: "0.1")!
        var second = first
        second.requestID = "second\t\"quoted\"\nline"
        try journal?.append([.charge(key, cost: Cost(dollars: "0.1")!), .record(first)])
        try journal?.append([.charge(key, cost: Cost(dollars: "0.1")!), .release(key, amount: Cost(dollars: "0.3")!)])
        try journal?.append([.record(second)])
        journal = nil
        let file = directory.appending(path: "ledger/\(owner).1.1.journal")
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("C\t0\t99".utf8))
        try handle.close()
        dead = nil

        #expect(try store.chargeAbandonedHolds { InstanceLock.isRunning($0, in: directory) } == 1)
        let budget = try #require(try store.budgets().first)
        // 0.2 charged by the journal, 0.3 given back, the remaining 0.5 of the hold charged in full.
        #expect(budget.spent == Cost(dollars: "0.7"))
        #expect(budget.reserved == .zero)
        let records = try store.auditRecords(AuditQuery()).map(\.entry)
        #expect(records.map(\.requestID) == ["first", second.requestID, "hold-\(owner)"])
        #expect(records.last?.cost == Cost(dollars: "0.5"))
        #expect(try store.verifyAudit().intact)
        #expect(!FileManager.default.fileExists(atPath: file.path))
        // Settled once: nothing is left to do.
        #expect(try store.chargeAbandonedHolds { InstanceLock.isRunning($0, in: directory) } == 0)
        #expect(try store.budgets().first?.spent == Cost(dollars: "0.7"))
        #expect(try store.auditRecords(AuditQuery()).count == 3)
    }

    @Test(arguments: TestStore.Backend.allCases)
    func aHoldUnderSteadySpendingRarelyMakesARequestWait(backend: TestStore.Backend) async throws {
        let store = try Store(location: try TestStore.location(backend))
        let ledger = try Self.ledger(store)
        // The ledger's service runs as in `serve`: on PostgreSQL it renews the gateway's lease, without
        // which its holds stop being usable a few seconds in.
        let service = Task { try await ledger.run() }
        defer { service.cancel() }
        let budget = BudgetCharge(scope: "team", period: .day, limit: Cost(dollars: "1000")!)
        let worst = Cost(dollars: "0.01")!
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        // 2,000 requests, 8 in flight, each charged a tenth of its worst case: every charge comes out of
        // the hold. A hold sized by what is in flight alone ran dry every 90 requests or so.
        var inFlight: [BudgetReservation] = []
        var waited = 0
        for _ in 0..<2000 {
            let reservation = ledger.reservation(of: worst, against: [budget])
            let reserved = ledger.reserve(reservation, on: loop)
            if !reserved.isNow { waited += 1 }
            #expect(try await reserved.get() == .done)
            inFlight.append(reservation)
            if inFlight.count == 8 {
                let oldest = inFlight.removeFirst()
                _ = try await ledger.finish(oldest, cost: Cost(dollars: "0.001")!, record: nil, on: loop).get()
            }
        }
        // On PostgreSQL a request's charge reaches the hold from the ledger's thread (there is no journal
        // to make it durable on the event loop), so a hold runs short a little more often.
        #expect(waited <= (backend == .sqlite ? 12 : 40), "\(waited) reservations waited for the store")
        for reservation in inFlight {
            _ = try await ledger.finish(reservation, cost: Cost(dollars: "0.001")!, record: nil, on: loop).get()
        }
        let status = try await Self.settled(store)
        #expect(status?.reserved == .zero)
        #expect(status?.spent == Cost(dollars: "2"))
    }
}
