import AsyncHTTPClient
import Foundation
import GatehouseCore
import GatehouseFixtureModel
import GatehouseGateway
import GatehouseStore
import NIOCore
import NIOHTTP1
import Testing

/// Quotas at the front door: rates, concurrency, caps and budgets, under concurrency.
@Suite struct LimitTests {
    static func quota(
        _ name: String,
        _ selector: String = "all()",
        _ adjust: (inout Quota) -> Void
    ) -> Quota {
        var quota = Quota(name: name, selector: try! Selector(parsing: selector))
        adjust(&quota)
        return quota
    }

    /// A configuration step that sets `quotas` (and, when `priced`, the prices of `AccountingTests`).
    static func with(
        _ quotas: [Quota],
        priced: Bool = false
    ) -> @Sendable (inout GatewayConfiguration, FixtureModel) -> Void {
        { configuration, fixture in
            if priced { AccountingTests.priced(&configuration, fixture) }
            configuration.quotas = quotas
        }
    }

    @Test func requestsPerMinuteAnswer429WithRetryAfterAndRateLimitHeaders() async throws {
        try await GatewayHarness.with(
            configure: Self.with([Self.quota("search", "team == 'search'") { $0.requestsPerMinute = 3 }])
        ) { harness in
            let key = try await harness.key("alice", labels: ["team": "search"])
            let other = try await harness.key("bob", labels: ["team": "ads"])
            var remaining: [String] = []
            for _ in 0..<3 {
                let answer = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
                #expect(answer.status == 200)
                #expect(answer.headers.first(name: "x-ratelimit-limit-requests") == "3")
                remaining.append(answer.headers.first(name: "x-ratelimit-remaining-requests") ?? "")
            }
            #expect(remaining == ["2", "1", "0"])
            let refused = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
            #expect(refused.status == 429)
            #expect(refused.body.contains("\"code\":\"rate_limit_exceeded\""))
            #expect(refused.body.contains("3 requests per minute (quota search)"))
            #expect(refused.body.contains("\"request_id\""))
            let retryAfter = try #require(Int(refused.headers.first(name: "retry-after") ?? ""))
            // The window is a minute from the first request: about 60 s (a bucket would refill in 20).
            #expect((55...60).contains(retryAfter))
            #expect(refused.headers.first(name: "x-ratelimit-remaining-requests") == "0")
            // Another group is not affected; the refusal is audited.
            #expect(
                try await harness.call("/v1/chat/completions", key: other, json: GatewayHarness.chat()).status == 200
            )
            let denied = try await harness.audit(count: 5).filter { $0.status == 429 }
            #expect(denied.first?.reason == .rateLimitExceeded)
        }
    }

    @Test func perIdentityQuotasGiveEachIdentityItsOwnAllowance() async throws {
        try await GatewayHarness.with(
            configure: Self.with([
                Self.quota("each") {
                    $0.requestsPerMinute = 1
                    $0.per = .identity
                }
            ])
        ) { harness in
            let first = try await harness.key("one")
            let second = try await harness.key("two")
            #expect(
                try await harness.call("/v1/chat/completions", key: first, json: GatewayHarness.chat()).status == 200
            )
            #expect(
                try await harness.call("/v1/chat/completions", key: second, json: GatewayHarness.chat()).status == 200
            )
            #expect(
                try await harness.call("/v1/chat/completions", key: first, json: GatewayHarness.chat()).status == 429
            )
        }
    }

    @Test func tokenLimitHeadersReflectWhatWasActuallyUsed() async throws {
        try await GatewayHarness.with(
            configure: Self.with([
                Self.quota("tokens") {
                    $0.tokensPerMinute = 1000
                    $0.countedTokens = .output
                }
            ])
        ) { harness in
            let key = try await harness.key()
            let body = GatewayHarness.chat(extra: #","max_tokens":400"#)
            let first = try await harness.call("/v1/chat/completions", key: key, json: body)
            #expect(first.status == 200)
            // Admission charged the 400 tokens asked for...
            #expect(first.headers.first(name: "x-ratelimit-remaining-tokens") == "600")
            // ...and the fixture's 12-token answer gave the rest back, so the next one sees the truth.
            let second = try await harness.call("/v1/chat/completions", key: key, json: body)
            let remaining = try #require(Int(second.headers.first(name: "x-ratelimit-remaining-tokens") ?? ""))
            #expect((588...600).contains(remaining))
            let greedy = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(extra: #","max_tokens":1000"#)
            )
            #expect(greedy.status == 429)
            #expect(greedy.body.contains("1000 tokens per minute"))
        }
    }

    @Test func concurrentRequestsAreCapped() async throws {
        var fixture = FixtureModel.Configuration()
        fixture.eventInterval = .milliseconds(200)
        try await GatewayHarness.with(
            fixture: fixture,
            configure: Self.with([Self.quota("one-at-a-time") { $0.maxConcurrent = 1 }])
        ) { harness in
            let key = try await harness.key()
            async let slow = harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat(stream: true))
            // Once the model has the stream, the gateway holds its one slot for the stream's 2.4 s (not a
            // fixed wait: on a loaded machine the stream may not have started by then).
            let deadline = ContinuousClock.now + .seconds(10)
            while harness.fixture.counters.requests < 1 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let second = try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat())
            #expect(second.status == 429)
            #expect(second.body.contains("1 concurrent requests"))
            #expect(try await slow.status == 200)
            #expect(try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status == 200)
        }
    }

    @Test func capsRefuseBeforeForwarding() async throws {
        let caps = Self.quota("caps") {
            $0.caps.maxTokens = 100
            $0.caps.maxN = 1
            $0.caps.maxMessages = 2
            $0.caps.maxEmbeddingInputs = 2
        }
        try await GatewayHarness.with(configure: Self.with([caps])) { harness in
            let key = try await harness.key()
            let cases: [(String, String, String)] = [
                ("/v1/chat/completions", GatewayHarness.chat(extra: #","max_tokens":101"#), "max_tokens is 101"),
                ("/v1/chat/completions", GatewayHarness.chat(extra: #","max_tokens":10,"n":2"#), "n is 2"),
                ("/v1/chat/completions", GatewayHarness.chat(), "set max_tokens to 100 or less"),
                (
                    "/v1/chat/completions",
                    #"{"model":"fixture-small","max_tokens":5,"messages":[{"role":"user","content":"a"},{"role":"user","content":"b"},{"role":"user","content":"c"}]}"#,
                    "the number of messages is 3"
                ),
                ("/v1/embeddings", #"{"model":"fixture-embedding","input":["a","b","c"]}"#, "embedding inputs is 3"),
            ]
            for (path, body, message) in cases {
                let answer = try await harness.call(path, key: key, json: body)
                #expect(answer.status == 400, "\(message)")
                #expect(answer.body.contains("\"code\":\"limit_exceeded\""))
                #expect(answer.body.contains(message), "\(answer.body)")
            }
            #expect(harness.fixture.counters.requests == 0)
            let fine = try await harness.call(
                "/v1/chat/completions",
                key: key,
                json: GatewayHarness.chat(extra: #","max_tokens":100"#)
            )
            #expect(fine.status == 200)
        }
    }

    /// 1,000 requests at once against a budget with room for a few dozen: the ledger never lets spent
    /// and reserved money pass the limit, and every charge is in the audit trail exactly once.
    @Test func aThousandConcurrentRequestsNeverOverspendABudget() async throws {
        var client = HTTPClient.Configuration()
        client.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 1000)
        try await GatewayHarness.with(
            configure: Self.with(
                [
                    Self.quota("team") {
                        $0.budget = Cost(dollars: "0.001")!
                        $0.budgetPeriod = .day
                    }
                ],
                priced: true
            ),
            client: client
        ) { harness in
            let key = try await harness.key()
            let body = GatewayHarness.chat(extra: #","max_tokens":10"#)
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<1000 {
                    group.addTask {
                        let answer = try await harness.call("/v1/chat/completions", key: key, json: body)
                        return (answer.status, answer.body)
                    }
                }
                return try await group.reduce(into: [(Int, String)]()) { $0.append($1) }
            }
            let allowed = statuses.filter { $0.0 == 200 }.count
            let refused = statuses.filter { $0.0 == 429 && $0.1.contains("\"code\":\"budget_exceeded\"") }.count
            #expect(allowed + refused == 1000)
            #expect(allowed > 0)
            let entries = try await harness.audit(count: 1000)
            // Once the last charges are in the store, the gateway holds nothing more of the budget.
            let budget = try #require(try await LedgerTests.settled(harness.store, scope: "team"))
            #expect(budget.reserved == .zero)
            #expect(budget.spent <= budget.limit)
            let charged = entries.filter { $0.status == 200 }
            #expect(charged.count == allowed)
            #expect(charged.reduce(Cost.zero) { $0 + ($1.cost ?? .zero) } == budget.spent)
            // A worst case of 110 input and 10 output tokens no longer fits what is left.
            #expect(budget.remaining < Cost(picodollars: 130 * 1_000_000))
        }
    }

    @Test func keysCarryTheirOwnQuotaAndBudget() async throws {
        try await GatewayHarness.with(configure: AccountingTests.priced) { harness in
            let key = try await harness.key(
                "metered",
                quota: KeyQuota(requestsPerMinute: 2, budget: Cost(dollars: "1"), budgetPeriod: .week)
            )
            #expect(try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status == 200)
            _ = try await harness.audit()  // the charge reaches the store with the record
            let budget = try #require(try harness.store.budgets().first)
            #expect(budget.scope == "key/metered")
            #expect(budget.period == .week)
            #expect(budget.spent > .zero)
            #expect(try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status == 200)
            #expect(try await harness.call("/v1/chat/completions", key: key, json: GatewayHarness.chat()).status == 429)
        }
    }

    @Test func anInflatedUsageReportIsChargedNoMoreThanWasReserved() async throws {
        var fixture = FixtureModel.Configuration()
        fixture.usage = .inflated
        try await GatewayHarness.with(
            fixture: fixture,
            configure: Self.with([Self.quota("team") { $0.budget = Cost(dollars: "100")! }], priced: true)
        ) { harness in
            let key = try await harness.key()
            let body = GatewayHarness.chat(extra: #","max_tokens":10"#)
            #expect(try await harness.call("/v1/chat/completions", key: key, json: body).status == 200)
            let entry = try #require(try await harness.audit().last)
            #expect(entry.tokensIn == 10_000_000)
            let worstCase = Cost(picodollars: Int64(body.utf8.count) * 1_000_000 + 10 * 2_000_000)
            #expect(entry.cost == worstCase)
            #expect(try harness.store.budgets().first?.spent == worstCase)
        }
    }

    @Test func holdsLeftByAStoppedGatewayAreChargedAtStart() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "gatehouse-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(directory: directory)
        let charge = BudgetCharge(scope: "team", period: .month, limit: Cost(dollars: "1")!)
        func hold(_ owner: String, _ dollars: String) -> LedgerOperation {
            let amount = Cost(dollars: dollars)!
            return .hold(.init(owner: owner, budgets: [charge], needed: [amount], wanted: [amount], at: Date()))
        }
        // A gateway that held part of the budget, then died: its lock is gone with it.
        var dead: InstanceLock? = try InstanceLock(directory: directory)
        let deadID = dead!.id
        let live = try InstanceLock(directory: directory)
        let held = store.apply([hold(deadID, "0.25"), hold(live.id, "0.01")])
        #expect(held == [.held([Cost(dollars: "0.25")!]), .held([Cost(dollars: "0.01")!])])
        #expect(try store.budgets().first?.reserved == Cost(dollars: "0.26"))
        let isRunning: (String) -> Bool = { InstanceLock.isRunning($0, in: directory) }
        #expect(try store.chargeAbandonedHolds(isRunning: isRunning) == 0)
        dead = nil
        // What a gateway does at start and every few seconds: only the dead one's hold is charged.
        #expect(try store.chargeAbandonedHolds(isRunning: isRunning) == 1)
        let budget = try #require(try store.budgets().first)
        #expect(budget.reserved == Cost(dollars: "0.01"))
        #expect(budget.spent == Cost(dollars: "0.25"))
        let liveKey = LedgerOperation.HoldKey(owner: live.id, scope: "team", windowStart: budget.windowStart)
        #expect(store.apply([.charge(liveKey, cost: Cost(dollars: "0.005")!)]) == [.done])
        let record = try #require(try store.auditRecords(AuditQuery()).last)
        #expect(record.entry.requestID == "hold-\(deadID)")
        #expect(record.entry.cost == Cost(dollars: "0.25"))
        #expect(record.entry.reason == .unsettledHoldCharged && record.entry.budget == "team")
        #expect(try store.chargeAbandonedHolds(isRunning: isRunning) == 0)
        // A charge never takes more than the hold has.
        #expect(store.apply([.charge(liveKey, cost: Cost(dollars: "1")!)]) == [.done])
        #expect(try store.budgets().first?.spent == Cost(dollars: "0.26"))
        // A hold that cannot grow by what it needs is refused whole, touching nothing; one that can grows
        // by what it wanted, or by what the budget can spare.
        guard case .refused(let refusal) = store.apply([hold(live.id, "0.80")]).first else {
            Issue.record("expected a refusal")
            return
        }
        #expect(refusal.remaining == Cost(dollars: "0.74"))
        #expect(try store.budgets().first?.reserved == .zero)
        let grown = store.apply([
            .hold(
                .init(
                    owner: live.id,
                    budgets: [charge],
                    needed: [Cost(dollars: "0.5")!],
                    wanted: [Cost(dollars: "5")!],
                    at: Date()
                )
            )
        ])
        #expect(grown == [.held([Cost(dollars: "0.74")!])])
        try store.releaseHolds(owner: live.id)
        #expect(try store.budgets().first?.reserved == .zero)
        #expect(try store.budgets().first?.spent == Cost(dollars: "0.26"))
    }
}
