import Foundation
import GatehouseCore
import GatehouseTesting
import ServiceLifecycle
import Testing

@testable import GatehouseGateway
@testable import GatehouseStore

/// The store's rules on both backends, SQLite and PostgreSQL, through the one façade: keys, holds and
/// charges, the audit chain and its verification, usage, flows, and the schema's migrations.
@Suite struct StoreBackendTests {
    static let backends = TestStore.Backend.allCases

    static func entry(_ index: Int, identity: String = "alice", cost: Int64 = 1_000) -> AuditEntry {
        var entry = AuditEntry(
            time: Date(timeIntervalSince1970: 1_795_780_800 + Double(index)),
            requestID: "req-\(index)",
            route: "/v1/chat/completions",
            decision: index % 5 == 4 ? .deny : .allow,
            status: index % 5 == 4 ? 403 : 200
        )
        entry.identity = identity
        entry.model = "small"
        entry.tokensIn = 10
        entry.tokensOut = 5
        entry.cost = Cost(picodollars: cost)
        return entry
    }

    /// Edits the store behind its back, as someone with access to the database would.
    static func tamper(_ location: StoreLocation, _ sql: String) throws {
        switch location {
        case .sqlite(let directory): try SQLiteShell.run(directory.appending(path: Store.fileName).path, sql)
        case .postgres(let postgres):
            try TestStore.Server.fromEnvironment().psql(sql, database: postgres.database)
        }
    }

    @Test(arguments: backends) func keysAreCreatedListedRevokedAndCounted(backend: TestStore.Backend) throws {
        let store = try Store(location: try TestStore.location(backend))
        let before = try store.generation()
        let (key, secret) = try store.createKey(
            kind: .api,
            name: "search-bot",
            labels: ["team": "search"],
            expiresAt: Date().addingTimeInterval(3600),
            quota: KeyQuota(requestsPerMinute: 60, budget: Cost(picodollars: 5_000), budgetPeriod: .day)
        )
        #expect(try store.generation() > before)
        #expect(throws: StoreError(.conflict, "")) {
            try store.createKey(kind: .api, name: "search-bot", labels: [:], expiresAt: nil)
        }
        let listed = try store.keys(kind: .api)
        #expect(listed.count == 1)
        #expect(listed.first?.secretDigest == secret.digest)
        #expect(listed.first?.labels == ["team": "search"])
        #expect(listed.first?.quota.requestsPerMinute == 60)
        #expect(listed.first?.quota.budget == Cost(picodollars: 5_000))
        #expect(listed.first?.quota.budgetPeriod == .day)
        let generation = try store.generation()
        let revoked = try store.revokeKey(kind: .api, key.id)
        #expect(revoked.revokedAt != nil)
        #expect(try store.generation() > generation)
        #expect(throws: StoreError(.notFound, "")) { try store.revokeKey(kind: .api, "search-bot") }
        #expect(try store.keys(kind: .admin).isEmpty)
    }

    @Test(arguments: backends) func holdsNeverPassTheBudgetAndAbandonedOnesAreCharged(
        backend: TestStore.Backend
    ) throws {
        let store = try Store(location: try TestStore.location(backend))
        let budget = BudgetCharge(scope: "key:a", period: .total, limit: Cost(picodollars: 1_000))
        let now = Date()
        func hold(_ owner: String, _ needed: Int64, wanted: Int64) -> LedgerOutcome? {
            store.apply([
                .hold(
                    LedgerOperation.HoldRequest(
                        owner: owner,
                        budgets: [budget],
                        needed: [Cost(picodollars: needed)],
                        wanted: [Cost(picodollars: wanted)],
                        at: now
                    )
                )
            ]).first
        }
        #expect(hold("one", 300, wanted: 500) == .held([Cost(picodollars: 500)]))
        #expect(hold("two", 300, wanted: 900) == .held([Cost(picodollars: 500)]))
        guard case .refused(let refusal) = hold("three", 1, wanted: 1) else {
            Issue.record("a full budget granted a hold")
            return
        }
        #expect(refusal.remaining == .zero)
        let key = LedgerOperation.HoldKey(owner: "one", scope: "key:a", windowStart: 0)
        #expect(
            store.apply([.charge(key, cost: Cost(picodollars: 120)), .release(key, amount: Cost(picodollars: 80))])
                == [.done, .done]
        )
        var status = try #require(try store.budgets().first)
        #expect(status.spent == Cost(picodollars: 120))
        #expect(status.reserved == Cost(picodollars: 800))
        // "two" stopped without settling: its hold is charged in full and recorded; "one" is running.
        #expect(try store.chargeAbandonedHolds(isRunning: { $0 == "one" }) == 1)
        status = try #require(try store.budgets().first)
        #expect(status.spent == Cost(picodollars: 620))
        #expect(status.reserved == Cost(picodollars: 300))
        // "one" said its requests in flight could cost at most 200: dead, it is charged that, and the 100
        // of headroom goes back to the budget.
        #expect(store.apply([.inFlight(key, bound: Cost(picodollars: 200))]) == [.done])
        #expect(try store.chargeAbandonedHolds(isRunning: { _ in false }) == 1)
        status = try #require(try store.budgets().first)
        #expect(status.reserved == .zero)
        #expect(status.spent == Cost(picodollars: 820))
        var query = AuditQuery()
        query.limit = 10
        let records = try store.auditRecords(query)
        #expect(records.map(\.entry.cost) == [Cost(picodollars: 500), Cost(picodollars: 200)])
        #expect(try store.verifyAudit().firstBreak == nil)
    }

    @Test(arguments: backends) func theAuditChainVerifiesAndAnEditIsFound(backend: TestStore.Backend) throws {
        let location = try TestStore.location(backend)
        let store = try Store(location: location)
        // More than one multi-row insert, and a batch that does not fill the last.
        let outcomes = store.apply((0..<150).map { .record(Self.entry($0)) })
        #expect(outcomes.allSatisfy { $0 == .done })
        #expect(store.apply((150..<153).map { .record(Self.entry($0, identity: "bob")) }).count == 3)
        let verification = try store.verifyAudit()
        #expect(verification.records == 153)
        #expect(verification.firstBreak == nil)
        #expect(verification.headSequence == 153)
        var query = AuditQuery()
        query.identity = "alice"
        query.limit = 2
        let newest = try store.auditRecords(query)
        #expect(newest.map(\.sequence) == [149, 150])
        #expect(newest.last?.entry.requestID == "req-149")
        let usage = try store.usage(since: nil, until: nil)
        #expect(usage.map(\.identity) == ["alice", "bob"])
        #expect(usage.first?.requests == 150)
        #expect(usage.first?.denied == 30)
        #expect(usage.first?.tokensIn == 1_500)
        #expect(usage.first?.cost == Cost(picodollars: 150_000))
        try Self.tamper(location, "UPDATE audit SET record = replace(record, 'req-77', 'req-78') WHERE seq = 78")
        let broken = try store.verifyAudit()
        #expect(broken.firstBreak?.sequence == 78)
        #expect(broken.firstBreak?.problem.contains("changed") == true)
    }

    @Test(arguments: backends) func flowsAreStoredQueriedAndExpired(backend: TestStore.Backend) throws {
        let store = try Store(location: try TestStore.location(backend))
        let start = Date(timeIntervalSince1970: 1_795_780_800)
        let flows = (0..<70).map { index -> FlowRecord in
            let even = index % 2 == 0
            return FlowRecord(
                start: start.addingTimeInterval(Double(index)),
                source: FlowPeer(kind: .identity, name: even ? "alice" : "bob"),
                sourceLabels: ["team": even ? "search" : "chat"],
                destination: FlowPeer(kind: .model, name: "small"),
                protocol: "HTTP",
                route: "/v1/chat/completions",
                action: index % 7 == 0 ? .deny : .allow,
                reporter: .gateway,
                counters: FlowCounters(requests: 1, tokensIn: 10, cost: Cost(picodollars: 5))
            )
        }
        let last = try store.insertFlows(flows)
        #expect(last == (try store.lastFlowID()))
        #expect(try store.flowCount() == 70)
        var filter = FlowFilter()
        filter.sourceNames = ["alice"]
        filter.actions = [.deny]
        let denied = try store.flows(FlowQuery(filter: filter, limit: 100))
        #expect(denied.count == 5)
        #expect(denied.allSatisfy { $0.flow.source.name == "alice" && $0.flow.action == .deny })
        #expect(denied.map(\.flow.start) == denied.map(\.flow.start).sorted())
        #expect(denied.first?.flow.sourceLabels == ["team": "search"])
        let followed = try store.flows(FlowQuery(limit: 10, after: last - 3))
        #expect(followed.count == 3)
        #expect(try store.deleteFlows(endingBefore: start.addingTimeInterval(35)) == 35)
        #expect(try store.flowCount() == 35)
        try store.optimizeFlowQueries()
    }

    @Test(arguments: backends) func aSchemaNewerThanThisBuildIsRefused(backend: TestStore.Backend) throws {
        let location = try TestStore.location(backend)
        _ = try Store(location: location)
        try Self.tamper(
            location,
            "INSERT INTO gatehouse_schema (version, name, applied_at) VALUES (99, 'v99-from-the-future', 0)"
        )
        #expect {
            try Store(location: location)
        } throws: { error in
            "\(error)".contains("v99-from-the-future") && "\(error)".contains("newer than this gatehouse knows")
        }
    }

    @Test(arguments: backends) func storesOpenedAtOnceMigrateOnce(backend: TestStore.Backend) async throws {
        let location = try TestStore.location(backend)
        let opened = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<4 { group.addTask { (try? Store(location: location)) != nil } }
            return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(opened == 4)
        let store = try Store(location: location)
        #expect(try store.keys(kind: .api).isEmpty)
        #expect(store.apply([.record(Self.entry(1))]) == [.done])
    }
}

/// `gatehouse store migrate`: an embedded store copied into PostgreSQL arrives whole, chain and all.
@Suite struct StoreCopyTests {
    @Test func anEmbeddedStoreArrivesInPostgreSQLWithItsChainIntact() throws {
        let sqlite = try TestStore.location(.sqlite)
        let source = try Store(location: sqlite)
        let (key, _) = try source.createKey(kind: .api, name: "search-bot", labels: ["team": "search"], expiresAt: nil)
        let budget = BudgetCharge(scope: "key:a", period: .total, limit: Cost(picodollars: 1_000))
        let amount = Cost(picodollars: 300)
        let now = Date()
        _ = source.apply([.hold(.init(owner: "gone", budgets: [budget], needed: [amount], wanted: [amount], at: now))])
        #expect(source.apply((0..<1_203).map { .record(StoreBackendTests.entry($0)) }).allSatisfy { $0 == .done })
        let start = Date(timeIntervalSince1970: 1_795_780_800)
        try source.insertFlows(
            (0..<1_100).map { index in
                FlowRecord(
                    start: start.addingTimeInterval(Double(index)),
                    source: FlowPeer(kind: .identity, name: "caller-\(index % 3)"),
                    destination: FlowPeer(kind: .model, name: "small"),
                    protocol: "HTTP",
                    action: .allow,
                    reporter: .gateway
                )
            }
        )
        let target = try Store(location: try TestStore.location(.postgres))
        let copy = try source.copy(into: target)
        // The dead gateway's hold was charged (and recorded) before the copy.
        #expect(copy.keys == 1)
        #expect(copy.budgets == 1)
        #expect(copy.auditRecords == 1_204)
        #expect(copy.flows == 1_100)
        #expect(copy.auditHead == (try source.verifyAudit().headHash))
        #expect(try target.keys(kind: .api).map(\.secretDigest) == [key.secretDigest])
        #expect(try target.budgets().first?.spent == amount)
        var filter = FlowFilter()
        filter.sourceNames = ["caller-1"]
        #expect(try target.flows(FlowQuery(filter: filter, limit: 1_000)).count == 367)
        // New rows go on after the copied ones, and the chain goes on from the copied head.
        try target.insertFlows([
            FlowRecord(
                start: start,
                source: FlowPeer(kind: .identity, name: "late"),
                destination: FlowPeer(kind: .model, name: "small"),
                protocol: "HTTP",
                action: .allow,
                reporter: .gateway
            )
        ])
        #expect(target.apply([.record(StoreBackendTests.entry(9_999))]) == [.done])
        #expect(try target.verifyAudit().records == 1_205)
        #expect(try target.verifyAudit().firstBreak == nil)
        // A store that is not empty is never written into.
        #expect(throws: StoreError(.conflict, "")) { try source.copy(into: target) }
    }

    @Test func aBrokenChainIsNotCopied() throws {
        let sqlite = try TestStore.location(.sqlite)
        let source = try Store(location: sqlite)
        _ = source.apply((0..<5).map { .record(StoreBackendTests.entry($0)) })
        try StoreBackendTests.tamper(sqlite, "DELETE FROM audit WHERE seq = 3")
        let target = try Store(location: try TestStore.location(.postgres))
        #expect {
            try source.copy(into: target)
        } throws: { error in
            "\(error)".contains("record 4 breaks the chain")
        }
        #expect(try target.verifyAudit().records == 0)
    }
}

/// Where a store is and how it is reached: what is refused, and what is never shown.
@Suite struct StoreLocationTests {
    @Test func passwordsComeFromAFileOrTheEnvironmentNeverFromTheURL() throws {
        #expect {
            try StoreLocation("postgres://app:hunter2@db:5432/gatehouse")
        } throws: { error in
            "\(error)".contains("holds a password") && !"\(error)".contains("hunter2")
        }
        let file = FileManager.default.temporaryDirectory.appending(path: "pw-\(UUID().uuidString)")
        try "s3cret\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        guard
            case .postgres(let fromFile) = try StoreLocation(
                "postgres://app@db/gatehouse?sslmode=verify-full&sslrootcert=/etc/ca.pem",
                passwordFile: file.path,
                environment: ["PGPASSWORD": "ignored"]
            )
        else {
            Issue.record("a postgres:// URL is not a PostgreSQL location")
            return
        }
        #expect(fromFile.password == "s3cret")
        #expect(fromFile.port == 5432)
        #expect(fromFile.tls == .verifyFull)
        #expect(!fromFile.description.contains("s3cret"))
        guard
            case .postgres(let fromEnvironment) = try StoreLocation(
                "postgresql://app@db:6543",
                environment: ["PGPASSWORD": "pw"]
            )
        else { return }
        #expect(fromEnvironment.password == "pw")
        #expect(fromEnvironment.database == "app")
        #expect(fromEnvironment.tls == .prefer)
    }

    @Test func badLocationsAreRefusedNamingWhatIsWrong() {
        let cases: [(String, String)] = [
            ("postgres://db/gatehouse", "names no user"),
            ("postgres://app@db/x?sslmode=sometimes", "sslmode \"sometimes\""),
            ("postgres://app@db/x?sslrootcert=ca.pem", "never checks the server"),
            ("postgres://app@db/x?target_session_attrs=any", "\"target_session_attrs\" is not known"),
            ("mysql://app@db/x", "neither sqlite://DIR nor postgres://"),
            ("sqlite://", "neither sqlite://DIR nor postgres://"),
        ]
        for (text, expected) in cases {
            do {
                _ = try StoreLocation(text, environment: [:])
                Issue.record("\(text) was taken")
            } catch {
                #expect(error.reason.contains(expected), "\(text): \(error.reason)")
            }
        }
        #expect(throws: StoreError.self) {
            try StoreLocation("postgres://app@db/x", passwordFile: "/nonexistent/password", environment: [:])
        }
    }

    @Test func anUnreachableServerIsUnavailableAndTheMessageHasNoPassword() throws {
        let location = try StoreLocation(
            "postgres://app@127.0.0.1:1/gatehouse?sslmode=disable",
            environment: ["PGPASSWORD": "do-not-show"]
        )
        #expect {
            try Store(location: location)
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .unavailable && error.reason.contains("127.0.0.1:1")
                && !error.reason.contains("do-not-show")
        }
    }

    /// A peer frozen while it holds the store's write lock (psql takes it and sleeps): a write gives up
    /// after the statement timeout as `unavailable`, and once the peer is gone the store goes on.
    /// A peer frozen holding the write lock: the server gives up on the statement waiting for it before
    /// this side stops waiting (so a statement reported failed never commits later), and the store goes on.
    @Test func aStatementWaitingTooLongFailsAsUnavailableAndTheStoreGoesOn() throws {
        let server = try TestStore.Server.fromEnvironment()
        let database = try server.makeDatabase()
        let store = try Store(
            location: try StoreLocation(server.url(database: database), environment: ["PGPASSWORD": server.password])
        )
        let marker = "frozen-\(UUID().uuidString)"
        let holder = Process()
        holder.executableURL = URL(filePath: "/usr/bin/env")
        holder.arguments = [
            // Advisory locks belong to a database: the store's.
            "psql", "-q", server.url(database: database), "-c",
            "SELECT pg_advisory_lock(\(PostgresDatabase.writeLock)), pg_sleep(60), '\(marker)'",
        ]
        holder.environment = ProcessInfo.processInfo.environment.merging(["PGPASSWORD": server.password]) { $1 }
        holder.standardOutput = FileHandle.nullDevice
        holder.standardError = FileHandle.nullDevice
        try holder.run()
        defer { holder.terminate() }
        Thread.sleep(forTimeInterval: 1)
        let started = ContinuousClock.now
        #expect {
            try store.releaseHolds(owner: "someone")
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .unavailable && error.reason.contains("statement timeout")
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= PostgresDatabase.serverStatementTimeout && waited < PostgresDatabase.statementTimeout)
        try server.psql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%\(marker)%' AND pid <> pg_backend_pid()"
        )
        try store.releaseHolds(owner: "someone")
    }

    @Test func aWrongPasswordIsRefusedByTheServerWithItsReason() throws {
        let server = try TestStore.Server.fromEnvironment()
        let location = try StoreLocation(
            server.url(database: "gatehouse"),
            environment: ["PGPASSWORD": "wrong-password"]
        )
        #expect {
            try Store(location: location)
        } throws: { error in
            "\(error)".contains("password authentication failed") && !"\(error)".contains("wrong-password")
        }
    }
}

/// Leases of gateways sharing a PostgreSQL store: a gateway whose lease ran out has its holds charged by
/// another, and then may not go on; one whose lease ran out with nobody settling it takes it up again.
@Suite struct GatewayLeaseTests {
    @Test func instanceIDsAreVersion4UUIDsAndDistinct() {
        let ids = (0..<1_000).map { _ in InstanceID.make() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let parsed = UUID(uuidString: id)
            #expect(parsed != nil && id == id.lowercased() && id.count == 36)
            #expect(Array(id)[14] == "4" && "89ab".contains(Array(id)[19]))
        }
    }

    @Test func aLapsedGatewaysHoldsAreChargedAndItMayNotGoOn() throws {
        let store = try Store(location: try TestStore.location(.postgres))
        let survivor = try GatewayInstance(store: store)
        try store.renewLease("lapsed", first: true, for: .milliseconds(300))
        let budget = BudgetCharge(scope: "team", period: .total, limit: Cost(picodollars: 1_000))
        let amount = Cost(picodollars: 400)
        let held = store.apply([
            .hold(.init(owner: "lapsed", budgets: [budget], needed: [amount], wanted: [amount], at: Date()))
        ])
        #expect(held == [.held([amount])])
        #expect(survivor.isRunning("lapsed"))
        #expect(try store.chargeAbandonedHolds(isRunning: survivor.isRunning) == 0)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!survivor.isRunning("lapsed"))
        #expect(try store.chargeAbandonedHolds(isRunning: survivor.isRunning) == 1)
        #expect(try store.budgets().first?.spent == amount)
        #expect(try store.budgets().first?.reserved == .zero)
        #expect(throws: StoreError(.conflict, "")) {
            try store.renewLease("lapsed", first: false, for: .seconds(5))
        }
        // A gateway the store has never seen renew cannot claim to be an old one.
        #expect(throws: StoreError(.conflict, "")) {
            try store.renewLease("unknown", first: false, for: .seconds(5))
        }
        // One that lapsed with nobody settling it (the store was out of reach for all) goes on.
        try store.renewLease("paused", first: true, for: .milliseconds(100))
        Thread.sleep(forTimeInterval: 0.2)
        try store.renewLease("paused", first: false, for: .seconds(5))
        #expect(survivor.isRunning("paused"))
        try survivor.renew()
        #expect(survivor.holdsUsable)
    }

    @Test func aLeaseIsKeptWhileTheConcurrencyPoolIsBlocked() async throws {
        let store = try Store(location: try TestStore.location(.postgres))
        let ledger = try LedgerTests.ledger(store)
        let service = Task { try await ledger.run() }
        defer { service.cancel() }
        try await Task.sleep(for: .milliseconds(200))
        // Every thread of the pool blocked for longer than a lease is usable (a statement running to its
        // timeout does that): the renewals go on on the ledger's own thread, and the holds stay usable.
        final class Lapses: @unchecked Sendable { var count = 0 }
        let lapses = Lapses()
        let sampler = DispatchQueue(label: "sampler")
        let blocked = GatewayInstance.leaseDuration + .seconds(1)
        let samples = Int(blocked / .milliseconds(50))
        sampler.async {
            for _ in 0..<samples {
                if !ledger.instance.holdsUsable { lapses.count += 1 }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<ProcessInfo.processInfo.activeProcessorCount {
                group.addTask { usleep(UInt32(blocked / .microseconds(1))) }
            }
        }
        #expect(sampler.sync { lapses.count } == 0)
    }
}
