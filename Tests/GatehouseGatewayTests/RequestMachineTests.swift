import Foundation
import GatehouseCore
import GatehouseStore
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import GatehouseGateway

/// The request's state machine alone: events and instants in, actions out, no socket, store or
/// upstream. What only real sockets show is in the loopback tests.
@Suite struct RequestMachineTests {
    static let yaml = """
        models:
          - name: small
            labels: {size: small}
            upstreams: [{url: "http://127.0.0.1:1"}]
            aliases: [tiny]
          - name: large
            labels: {size: large}
            upstreams: [{url: "http://127.0.0.1:1"}]
        prices:
          default: {input: "1", output: "2"}
        access:
          policies:
            - name: small-for-all
              selector: all()
              rules: [{action: Allow, models: {selector: size == 'small'}}]
        guardrails:
          - name: redact-emails
            selector: guarded == 'redact'
            detectors: [email]
            prompts: redact
          - name: block-emails
            selector: guarded == 'block'
            detectors: [email]
            prompts: block
        quotas:
          - name: team
            selector: all()
            requestsPerMinute: 100
            maxTokens: 5000
            budget: {usd: "5", period: day}
        """

    static let chat = #"{"model":"small","messages":[{"role":"user","content":"write to jane@example.com"}]}"#

    static let noHold = QuotaBook.Hold(demands: [], chargedTokens: [], tokenMarks: [], headers: [])

    /// A machine for a request to `path` whose head arrived at `started`, under `yaml`.
    static func withMachine(
        _ authentication: Authenticator.Result,
        path: String = DataPlane.Route.chatCompletions.rawValue,
        headers: HTTPHeaders = [:],
        yaml: String = Self.yaml,
        started: ContinuousClock.Instant = .now,
        _ body: (inout RequestMachine, ContinuousClock.Instant) throws -> Void
    ) async throws {
        let registry = UpstreamRegistry(group: MultiThreadedEventLoopGroup.singleton)
        do {
            let configuration = try GatewayConfiguration.decode(text: yaml, file: "g.yaml", environment: [:])
            let runtime = try GatewayRuntime(configuration: configuration, registry: registry, previous: nil)
            var machine = RequestMachine(
                request: AdmittedRequest(
                    head: HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers),
                    path: path,
                    requestID: "req-1",
                    authentication: authentication,
                    runtime: runtime,
                    started: started
                )
            )
            try body(&machine, started)
        } catch {
            await registry.shutdown()
            throw error
        }
        await registry.shutdown()
    }

    static func caller(_ labels: Labels = [:]) -> Authenticator.Result {
        .identified(Identity(name: "alice", method: .apiKey, labels: labels, keyID: "k1"))
    }

    /// The refusal an action is, or a recorded issue.
    static func refusal(
        _ action: RequestMachine.Action,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> (error: GatewayError, outcome: RequestOutcome, release: QuotaBook.Hold?)? {
        guard case .refuse(let error, let outcome, let release) = action else {
            Issue.record("expected a refusal, got \(action)", sourceLocation: sourceLocation)
            return nil
        }
        #expect(outcome.decision == .deny, sourceLocation: sourceLocation)
        #expect(outcome.status == Int(error.status.code), sourceLocation: sourceLocation)
        return (error, outcome, release)
    }

    /// Feeds the body and admits it against the quotas, returning the plan they were asked about.
    static func admitted(_ machine: inout RequestMachine, body: String, now: ContinuousClock.Instant) -> SpendPlan? {
        let action = machine.handle(.received(ByteBuffer(string: body)), now: now)
        guard case .admitQuotas(let plan) = action else {
            Issue.record("expected the quotas to be asked, got \(action)")
            return nil
        }
        return plan
    }

    /// Feeds the body, which the guardrails are to scan: what, with which policies, and where.
    static func scan(
        _ machine: inout RequestMachine,
        body: String,
        now: ContinuousClock.Instant
    ) -> (ByteBuffer, [GuardrailPolicy], onLoop: Bool)? {
        let action = machine.handle(.received(ByteBuffer(string: body)), now: now)
        guard case .scan(let body, let guardrails, let onLoop) = action else {
            Issue.record("expected a scan, got \(action)")
            return nil
        }
        return (body, guardrails, onLoop)
    }

    @Test func anAllowedRequestGoesThroughEveryStepInOrderAndEndsAfterItsSettlement() async throws {
        try await Self.withMachine(Self.caller(["guarded": "redact"])) { machine, start in
            // The guardrails see the body first; a small one on the event loop.
            guard let (body, guardrails, onLoop) = Self.scan(&machine, body: Self.chat, now: start + .milliseconds(1))
            else { return }
            #expect(onLoop && guardrails.map(\.name) == ["redact-emails"])
            let verdict = PromptGuard.check(body, policies: guardrails)
            let asked = machine.handle(.scanned(verdict, clientLeft: false), now: start + .milliseconds(2))
            guard case .admitQuotas(let plan) = asked else {
                Issue.record("expected the quotas to be asked, got \(asked)")
                return
            }
            #expect(plan.demands.map(\.quota.name) == ["team"])
            #expect(plan.budgets.map(\.scope) == ["team"])
            guard
                case .reserve(let amount, let budgets) = machine.handle(
                    .quotas(.admitted(Self.noHold), ledgerReachable: true),
                    now: start + .milliseconds(3)
                )
            else {
                Issue.record("expected a reservation")
                return
            }
            #expect(amount == plan.worstCase)
            let reservation = BudgetReservation(amount: amount, budgets: budgets, owner: "g1", at: Date())
            guard
                case .forward(let model, let request) = machine.handle(
                    .reserved(reservation, .done),
                    now: start + .milliseconds(4)
                )
            else {
                Issue.record("expected the request to be forwarded")
                return
            }
            #expect(model.route.name == "small")
            // The redacted body goes upstream, bounded to the quota's cap in the field it reads.
            let forwarded = String(buffer: request.body)
            #expect(forwarded.contains("[REDACTED:email]") && !forwarded.contains("jane@example.com"))
            #expect(request.patch.values.first { $0.field == .maxTokens }?.json == "4096")
            #expect(request.metering.outputBound == 4096)
            var answer = Forwarder.Outcome(
                status: 200,
                upstream: "http://127.0.0.1:1",
                attempts: 1,
                bytes: 120,
                failure: nil
            )
            answer.usage = TokenUsage(input: 12, output: 30, estimated: false)
            answer.endPending = true
            guard
                case .settle(let settlement) = machine.handle(.answered(answer), now: start + .milliseconds(250))
            else {
                Issue.record("expected a settlement")
                return
            }
            let cost = plan.price.cost(of: TokenUsage(input: 12, output: 30, estimated: false))
            #expect(settlement.usage.input == 12 && settlement.usage.output == 30)
            #expect(settlement.ledger?.cost == cost)
            #expect(settlement.ledger?.reservation?.amount == amount)
            #expect(settlement.ledger?.audit?.requestID == "req-1")
            let outcome = settlement.outcome
            #expect(outcome.decision == .allow && outcome.status == 200 && outcome.reason == nil)
            #expect(outcome.identity == "alice" && outcome.keyID == "k1" && outcome.model == "small")
            #expect(outcome.findings?.map(\.detector) == ["email"])
            #expect(outcome.tokensIn == 12 && outcome.tokensOut == 30 && outcome.cost == cost)
            #expect(outcome.bytesIn == Self.chat.utf8.count && outcome.bytesOut == 120)
            // Timings come from the instants the events carried, not from a clock read inside.
            #expect(outcome.latencyMilliseconds == 250)
            // The last bytes wait for the settlement; then nothing more happens.
            #expect(machine.handle(.answered(answer), now: start + .milliseconds(251)).isNone)
            #expect(machine.handle(.settled, now: start + .milliseconds(260)).isWriteEnd)
            #expect(machine.handle(.settled, now: start + .milliseconds(261)).isNone)
        }
    }

    @Test func aCostReportedAboveTheReservationIsChargedAtTheReservation() async throws {
        try await Self.withMachine(Self.caller()) { machine, start in
            guard let plan = Self.admitted(&machine, body: Self.chat, now: start) else { return }
            guard
                case .reserve(let amount, let budgets) = machine.handle(
                    .quotas(.admitted(Self.noHold), ledgerReachable: true),
                    now: start
                )
            else {
                Issue.record("expected a reservation")
                return
            }
            let reservation = BudgetReservation(amount: amount, budgets: budgets, owner: "g1", at: Date())
            #expect(machine.handle(.reserved(reservation, .held([amount])), now: start).isForward)
            var answer = Forwarder.Outcome(status: 200, upstream: nil, attempts: 1, bytes: 10, failure: nil)
            answer.usage = TokenUsage(input: 1_000_000, output: 1_000_000, estimated: false)
            answer.overran = true
            guard case .settle(let settlement) = machine.handle(.answered(answer), now: start) else {
                Issue.record("expected a settlement")
                return
            }
            #expect(plan.price.cost(of: answer.usage!) > amount)
            #expect(settlement.ledger?.cost == amount && settlement.outcome.cost == amount)
            #expect(settlement.outcome.reason == .outputOverrun)
            #expect(settlement.outcome.overranBound == plan.outputBound)
        }
    }

    @Test func withNeitherBudgetNorAuditTrailTheEndIsNotHeldBack() async throws {
        let yaml = """
            models:
              - name: small
                upstreams: [{url: "http://127.0.0.1:1"}]
            access:
              policies:
                - name: all
                  selector: all()
                  rules: [{action: Allow}]
            audit: {enabled: false}
            """
        try await Self.withMachine(Self.caller(), yaml: yaml) { machine, start in
            guard Self.admitted(&machine, body: Self.chat, now: start) != nil else { return }
            #expect(machine.handle(.quotas(.admitted(Self.noHold), ledgerReachable: true), now: start).isForward)
            var answer = Forwarder.Outcome(status: 200, upstream: nil, attempts: 1, bytes: 10, failure: nil)
            answer.endPending = true
            // Usage the upstream did not report: the answer's output counted, the prompt estimated here.
            answer.usage = TokenUsage(input: 0, output: 7, estimated: true)
            guard case .settle(let settlement) = machine.handle(.answered(answer), now: start) else {
                Issue.record("expected a settlement")
                return
            }
            #expect(settlement.ledger == nil)
            #expect(settlement.usage.estimated && settlement.usage.input > 0 && settlement.usage.output == 7)
            #expect(settlement.outcome.tokensEstimated == true && settlement.outcome.tokensIn == settlement.usage.input)
            #expect(machine.handle(.settled, now: start).isWriteEnd)
        }
    }

    @Test func everyRefusalEndsTheRequestWithItsStatusAndReason() async throws {
        // Before the body is read: no caller.
        try await Self.withMachine(.rejected) { machine, start in
            let refused = Self.refusal(machine.handle(.received(ByteBuffer(string: Self.chat)), now: start))
            #expect(refused?.outcome.reason == .invalidAPIKey && refused?.outcome.identity == nil)
        }
        let refusals: [(String, Labels, HTTPHeaders, Int, RequestReason)] = [
            (#"{"model":"nope","messages":[]}"#, [:], [:], 404, .modelNotFound),
            (#"{"model":"large","messages":[]}"#, [:], [:], 403, .modelAccessDenied),
            (#"{"model":"small","max_tokens":6000,"messages":[]}"#, [:], [:], 400, .limitExceeded),
            ("not json", [:], [:], 400, .invalidJSON),
            (Self.chat, ["guarded": "block"], ["content-encoding": "gzip"], 415, .compressedBody),
        ]
        for (body, labels, headers, status, reason) in refusals {
            try await Self.withMachine(Self.caller(labels), headers: headers) { machine, start in
                let refused = Self.refusal(machine.handle(.received(ByteBuffer(string: body)), now: start))
                #expect(refused?.outcome.status == status, "\(body)")
                #expect(refused?.outcome.reason == reason, "\(body)")
                #expect(refused?.release == nil)
                // Ended: nothing that comes later acts.
                #expect(machine.handle(.quotas(.admitted(Self.noHold), ledgerReachable: true), now: start).isNone)
            }
        }
    }

    @Test func aBlockedPromptIsRefusedWithItsFindings() async throws {
        try await Self.withMachine(Self.caller(["guarded": "block"])) { machine, start in
            guard let (body, guardrails, _) = Self.scan(&machine, body: Self.chat, now: start) else { return }
            let refused = Self.refusal(
                machine.handle(.scanned(PromptGuard.check(body, policies: guardrails), clientLeft: false), now: start)
            )
            #expect(refused?.outcome.reason == .guardrailBlocked)
            #expect(refused?.outcome.findings?.map(\.detector) == ["email"])
        }
        try await Self.withMachine(Self.caller(["guarded": "block"])) { machine, start in
            _ = machine.handle(.received(ByteBuffer(string: Self.chat)), now: start)
            let refused = Self.refusal(machine.handle(.scanned(nil, clientLeft: false), now: start))
            #expect(refused?.error.status == .serviceUnavailable && refused?.outcome.detail == "scan not run")
        }
    }

    @Test func aClientThatLeftDuringTheScanIsRecordedWithWhatTheScanFound() async throws {
        try await Self.withMachine(Self.caller(["guarded": "block"])) { machine, start in
            guard let (body, guardrails, _) = Self.scan(&machine, body: Self.chat, now: start) else { return }
            let verdict = PromptGuard.check(body, policies: guardrails)
            guard case .record(let outcome) = machine.handle(.scanned(verdict, clientLeft: true), now: start) else {
                Issue.record("expected a record without an answer")
                return
            }
            #expect(outcome.status == 499 && outcome.reason == .clientClosed && outcome.decision == .deny)
            #expect(outcome.findings?.map(\.detector) == ["email"])
        }
    }

    @Test func aLargeBodyIsScannedOffTheEventLoop() async throws {
        let padding = String(repeating: "x", count: RequestMachine.largestBodyScannedOnTheLoop)
        let body = #"{"model":"small","messages":[{"role":"user","content":"\#(padding)"}]}"#
        try await Self.withMachine(Self.caller(["guarded": "redact"])) { machine, start in
            #expect(Self.scan(&machine, body: body, now: start)?.onLoop == false)
        }
    }

    @Test func aHoldIsGivenBackWhenTheRequestGoesNoFurther() async throws {
        let limit = BudgetRefusal(
            scope: "team",
            limit: Cost(dollars: "5")!,
            remaining: .zero,
            reserved: .zero,
            resetsAt: nil
        )
        let hold = QuotaBook.Hold(
            demands: [],
            chargedTokens: [],
            tokenMarks: [],
            headers: [("x-ratelimit-limit-requests", "100")]
        )
        let results: [(LedgerOutcome, Int, RequestReason)] = [
            (.refused(limit), 429, .budgetExceeded),
            (.failed(StoreError(.unavailable, "down")), 503, .ledgerUnavailable),
        ]
        for (result, status, reason) in results {
            try await Self.withMachine(Self.caller()) { machine, start in
                guard Self.admitted(&machine, body: Self.chat, now: start) != nil else { return }
                guard
                    case .reserve(let amount, let budgets) = machine.handle(
                        .quotas(.admitted(hold), ledgerReachable: true),
                        now: start
                    )
                else {
                    Issue.record("expected a reservation")
                    return
                }
                let reservation = BudgetReservation(amount: amount, budgets: budgets, owner: "g1", at: Date())
                let refused = Self.refusal(machine.handle(.reserved(reservation, result), now: start))
                #expect(refused?.outcome.status == status && refused?.outcome.reason == reason)
                #expect(refused?.release?.headers.first?.1 == "100")
            }
        }
        try await Self.withMachine(Self.caller()) { machine, start in
            guard Self.admitted(&machine, body: Self.chat, now: start) != nil else { return }
            let refused = Self.refusal(machine.handle(.quotas(.admitted(hold), ledgerReachable: false), now: start))
            #expect(refused?.outcome.reason == .ledgerUnavailable && refused?.release != nil)
        }
        try await Self.withMachine(Self.caller()) { machine, start in
            guard Self.admitted(&machine, body: Self.chat, now: start) != nil else { return }
            let refused = Self.refusal(
                machine.handle(
                    .quotas(
                        .refused(limit: "team: 100 requests/min", retryAfter: 7, headers: []),
                        ledgerReachable: true
                    ),
                    now: start
                )
            )
            #expect(refused?.outcome.reason == .rateLimitExceeded)
            #expect(refused?.outcome.status == 429 && refused?.outcome.detail == "team: 100 requests/min")
            #expect(refused?.error.headers.contains { $0.0 == "retry-after" && $0.1 == "7" } == true)
            #expect(refused?.release == nil)
        }
    }

    @Test func aBearerTokenIsVerifiedBeforeAnythingElse() async throws {
        let registry = UpstreamRegistry(group: MultiThreadedEventLoopGroup.singleton)
        let verifier = JWTVerifier(
            settings: JWTIssuerSettings(
                issuer: "https://issuer.example",
                audiences: ["gatehouse"],
                algorithms: ["RS256"]
            ),
            httpClient: registry.checks
        )
        let header = JWTVerifier.Header(alg: "RS256", kid: nil, typ: nil)
        do {
            try await Self.withMachine(.token("t", header, verifier)) { machine, start in
                let asked = machine.handle(.received(ByteBuffer(string: Self.chat)), now: start)
                guard case .verifyToken(let token, _, _) = asked else {
                    Issue.record("expected the token to be verified, got \(asked)")
                    return
                }
                #expect(token == "t")
                let refused = Self.refusal(machine.handle(.identified(nil), now: start))
                #expect(refused?.outcome.reason == .tokenNotValid && refused?.outcome.status == 401)
            }
        } catch {
            await registry.shutdown()
            throw error
        }
        await registry.shutdown()
    }

    @Test func theModelListIsTheCallersAllowedModelsWithTheirAliases() async throws {
        try await Self.withMachine(Self.caller(), path: DataPlane.Route.models.rawValue) { machine, start in
            guard case .answer(let json, let outcome) = machine.handle(.received(ByteBuffer()), now: start) else {
                Issue.record("expected an answer")
                return
            }
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            let ids = (object?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["small", "tiny"])
            #expect(outcome.status == 200 && outcome.detail == "2 models" && outcome.identity == "alice")
        }
    }
}

extension RequestMachine.Action {
    var isNone: Bool {
        if case .none = self { return true }
        return false
    }

    var isWriteEnd: Bool {
        if case .writeEnd = self { return true }
        return false
    }

    var isForward: Bool {
        if case .forward = self { return true }
        return false
    }
}
