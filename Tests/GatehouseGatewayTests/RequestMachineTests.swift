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

    /// A clock that moves only when told to, and by `tick` each time it is read.
    final class ManualClock: @unchecked Sendable {
        var instant = ContinuousClock.now
        var tick = Duration.zero

        func advance(by duration: Duration) { instant += duration }

        func read() -> ContinuousClock.Instant {
            defer { instant += tick }
            return instant
        }
    }

    /// A machine for a request to `path` under `yaml`, its head arrived at the clock's instant.
    static func withMachine(
        _ authentication: Authenticator.Result,
        path: String = DataPlane.Route.chatCompletions.rawValue,
        headers: HTTPHeaders = [:],
        yaml: String = Self.yaml,
        traced: Bool = false,
        _ body: (inout RequestMachine, ManualClock) throws -> Void
    ) async throws {
        let clock = ManualClock()
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
                    started: clock.instant,
                    spans: traced ? RequestSpans(traceparent: nil, ratio: 1, started: clock.instant) : nil
                ),
                now: { clock.read() }
            )
            try body(&machine, clock)
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
    static func admitted(_ machine: inout RequestMachine, body: String) -> SpendPlan? {
        let action = machine.handle(.received(ByteBuffer(string: body)))
        guard case .admitQuotas(let plan) = action else {
            Issue.record("expected the quotas to be asked, got \(action)")
            return nil
        }
        return plan
    }

    /// Admits the request with `hold`: the reservation the budgets are then asked for, as the ledger makes it.
    static func reservation(_ machine: inout RequestMachine, hold: QuotaBook.Hold) -> BudgetReservation? {
        let action = machine.handle(.quotas(.admitted(hold), ledgerReachable: true))
        guard case .reserve(let amount, let budgets) = action else {
            Issue.record("expected a reservation, got \(action)")
            return nil
        }
        return BudgetReservation(amount: amount, budgets: budgets, owner: "g1", at: Date())
    }

    /// Feeds the body, which the guardrails are to scan: what, with which policies, and where.
    static func scan(
        _ machine: inout RequestMachine,
        body: String
    ) -> (ByteBuffer, [GuardrailPolicy], onLoop: Bool)? {
        let action = machine.handle(.received(ByteBuffer(string: body)))
        guard case .scan(let body, let guardrails, let onLoop) = action else {
            Issue.record("expected a scan, got \(action)")
            return nil
        }
        return (body, guardrails, onLoop)
    }

    /// The upstream's answer, relayed: whole unless `complete` is false.
    static func relayed(
        _ usage: TokenUsage,
        bytes: Int = 10,
        complete: Bool = true,
        overran: Bool = false
    ) -> RequestMachine.Event {
        .upstreamAnswered(
            .success(
                .relayed(
                    .ok,
                    UpstreamExchange.Relayed(
                        bytes: bytes,
                        complete: complete,
                        usage: usage,
                        firstPiece: nil,
                        findings: [],
                        overran: overran,
                        responseModel: nil,
                        finishReasons: []
                    )
                )
            ),
            clientLeft: false
        )
    }

    @Test func anAllowedRequestGoesThroughEveryStepInOrderAndEndsAfterItsSettlement() async throws {
        let traced = Self.yaml + "\ntelemetry:\n  otlp: {endpoint: \"http://127.0.0.1:1\", captureContent: true}\n"
        let hold = QuotaBook.Hold(
            demands: [],
            chargedTokens: [],
            tokenMarks: [],
            headers: [("x-ratelimit-limit-requests", "100")]
        )
        try await Self.withMachine(Self.caller(["guarded": "redact"]), yaml: traced, traced: true) { machine, clock in
            let start = clock.instant
            // The guardrails see the body first; a small one on the event loop.
            clock.advance(by: .milliseconds(1))
            guard let (body, guardrails, onLoop) = Self.scan(&machine, body: Self.chat)
            else { return }
            #expect(onLoop && guardrails.map(\.name) == ["redact-emails"])
            let verdict = PromptGuard.check(body, policies: guardrails)
            clock.advance(by: .milliseconds(1))
            let asked = machine.handle(.scanned(verdict, clientLeft: false))
            guard case .admitQuotas(let plan) = asked else {
                Issue.record("expected the quotas to be asked, got \(asked)")
                return
            }
            #expect(plan.demands.map(\.quota.name) == ["team"])
            #expect(plan.budgets.map(\.scope) == ["team"])
            guard let reservation = Self.reservation(&machine, hold: hold) else { return }
            let amount = reservation.amount
            #expect(amount == plan.worstCase && reservation.budgets == plan.budgets)
            clock.advance(by: .milliseconds(1))
            guard
                case .attempt(let upstream, let model, let request, nil) = machine.handle(
                    .reserved(reservation, .done)
                )
            else {
                Issue.record("expected the request to be forwarded")
                return
            }
            #expect(model.route.name == "small" && upstream.origin == "http://127.0.0.1:1")
            // The redacted body goes upstream, bounded to the quota's cap in the field it reads.
            let forwarded = String(buffer: request.body)
            #expect(forwarded.contains("[REDACTED:email]") && !forwarded.contains("jane@example.com"))
            #expect(request.patch.values.first { $0.field == .maxTokens }?.json == "4096")
            #expect(request.metering.outputBound == 4096)
            // The quotas' headers go out with the answer.
            #expect(request.extraHeaders.first?.1 == "100")
            let answer = Self.relayed(TokenUsage(input: 12, output: 30, estimated: false), bytes: 120)
            clock.advance(by: .milliseconds(247))
            guard case .settle(let settlement) = machine.handle(answer) else {
                Issue.record("expected a settlement")
                return
            }
            #expect(settlement.error == nil && settlement.mark?.healthy == true)
            let cost = plan.price.cost(of: TokenUsage(input: 12, output: 30, estimated: false))
            #expect(settlement.usage.input == 12 && settlement.usage.output == 30)
            #expect(settlement.hold.headers.first?.1 == "100")
            #expect(settlement.ledger?.cost == cost)
            #expect(settlement.ledger?.reservation?.amount == amount)
            #expect(settlement.ledger?.audit?.requestID == "req-1")
            let outcome = settlement.outcome
            #expect(outcome.decision == .allow && outcome.status == 200 && outcome.reason == nil)
            #expect(outcome.attempts == 1 && outcome.upstream == "http://127.0.0.1:1")
            #expect(outcome.identity == "alice" && outcome.keyID == "k1" && outcome.model == "small")
            #expect(outcome.findings?.map(\.detector) == ["email"])
            #expect(outcome.tokensIn == 12 && outcome.tokensOut == 30 && outcome.cost == cost)
            #expect(outcome.bytesIn == Self.chat.utf8.count && outcome.bytesOut == 120)
            // Timings come from the clock given: each step of the trace when it was reached.
            #expect(outcome.latencyMilliseconds == 250)
            let spans = try #require(outcome.spans)
            #expect(spans.authenticated == start + .milliseconds(1) && spans.decided == start + .milliseconds(1))
            #expect(spans.guarded == start + .milliseconds(2) && spans.forwarded == start + .milliseconds(3))
            // The content a span may carry is what went upstream: redacted.
            #expect(spans.content == forwarded)
            // The last bytes wait for the settlement; then nothing more happens.
            #expect(machine.handle(answer).isNone)
            #expect(machine.handle(.settled).isWriteEnd)
            #expect(machine.handle(.settled).isNone)
        }
    }

    @Test func aCostReportedAboveTheReservationIsChargedAtTheReservation() async throws {
        try await Self.withMachine(Self.caller()) { machine, clock in
            guard let plan = Self.admitted(&machine, body: Self.chat) else { return }
            guard let reservation = Self.reservation(&machine, hold: Self.noHold) else { return }
            let amount = reservation.amount
            #expect(machine.handle(.reserved(reservation, .held([amount]))).isAttempt)
            let usage = TokenUsage(input: 1_000_000, output: 1_000_000, estimated: false)
            guard case .settle(let settlement) = machine.handle(Self.relayed(usage, overran: true)) else {
                Issue.record("expected a settlement")
                return
            }
            #expect(plan.price.cost(of: usage) > amount)
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
        try await Self.withMachine(Self.caller(), yaml: yaml) { machine, clock in
            guard Self.admitted(&machine, body: Self.chat) != nil else { return }
            #expect(machine.handle(.quotas(.admitted(Self.noHold), ledgerReachable: true)).isAttempt)
            // Usage the upstream did not report: the answer's output counted, the prompt estimated here.
            let answer = Self.relayed(TokenUsage(input: 0, output: 7, estimated: true))
            guard case .settle(let settlement) = machine.handle(answer) else {
                Issue.record("expected a settlement")
                return
            }
            #expect(settlement.ledger == nil)
            #expect(settlement.usage.estimated && settlement.usage.input > 0 && settlement.usage.output == 7)
            #expect(settlement.outcome.tokensEstimated == true && settlement.outcome.tokensIn == settlement.usage.input)
            #expect(machine.handle(.settled).isWriteEnd)
        }
    }

    @Test func everyRefusalEndsTheRequestWithItsStatusAndReason() async throws {
        // Before the body is read: no caller.
        try await Self.withMachine(.rejected) { machine, clock in
            let refused = Self.refusal(machine.handle(.received(ByteBuffer(string: Self.chat))))
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
            try await Self.withMachine(Self.caller(labels), headers: headers) { machine, clock in
                let refused = Self.refusal(machine.handle(.received(ByteBuffer(string: body))))
                #expect(refused?.outcome.status == status, "\(body)")
                #expect(refused?.outcome.reason == reason, "\(body)")
                #expect(refused?.release == nil)
                // Ended: nothing that comes later acts.
                #expect(machine.handle(.quotas(.admitted(Self.noHold), ledgerReachable: true)).isNone)
            }
        }
    }

    @Test func aBlockedPromptIsRefusedWithItsFindings() async throws {
        try await Self.withMachine(Self.caller(["guarded": "block"])) { machine, clock in
            guard let (body, guardrails, _) = Self.scan(&machine, body: Self.chat) else { return }
            let refused = Self.refusal(
                machine.handle(.scanned(PromptGuard.check(body, policies: guardrails), clientLeft: false))
            )
            #expect(refused?.outcome.reason == .guardrailBlocked)
            #expect(refused?.outcome.findings?.map(\.detector) == ["email"])
        }
        try await Self.withMachine(Self.caller(["guarded": "block"])) { machine, clock in
            _ = machine.handle(.received(ByteBuffer(string: Self.chat)))
            let refused = Self.refusal(machine.handle(.scanned(nil, clientLeft: false)))
            #expect(refused?.error.status == .serviceUnavailable && refused?.outcome.detail == "scan not run")
        }
    }

    @Test func aClientThatLeftDuringTheScanIsRecordedWithWhatTheScanFound() async throws {
        try await Self.withMachine(Self.caller(["guarded": "block"])) { machine, clock in
            guard let (body, guardrails, _) = Self.scan(&machine, body: Self.chat) else { return }
            let verdict = PromptGuard.check(body, policies: guardrails)
            guard case .record(let outcome) = machine.handle(.scanned(verdict, clientLeft: true)) else {
                Issue.record("expected a record without an answer")
                return
            }
            #expect(outcome.status == 499 && outcome.reason == .clientClosed && outcome.decision == .deny)
            #expect(outcome.findings?.map(\.detector) == ["email"])
        }
        // A prompt that would have passed: recorded as left, not sent on.
        try await Self.withMachine(Self.caller(["guarded": "redact"])) { machine, clock in
            _ = machine.handle(.received(ByteBuffer(string: Self.chat)))
            guard case .record(let outcome) = machine.handle(.scanned(.pass(findings: []), clientLeft: true)) else {
                Issue.record("expected a record without an answer")
                return
            }
            #expect(outcome.status == 499 && outcome.decision == .allow && outcome.findings == nil)
        }
    }

    @Test func aLargeBodyIsScannedOffTheEventLoop() async throws {
        let frame = #"{"model":"small","messages":[{"role":"user","content":""}]}"#
        let largest = RequestMachine.largestBodyScannedOnTheLoop
        for (size, onLoop) in [(largest, true), (largest + 1, false)] {
            let padding = String(repeating: "x", count: size - frame.utf8.count)
            let body = #"{"model":"small","messages":[{"role":"user","content":"\#(padding)"}]}"#
            try await Self.withMachine(Self.caller(["guarded": "redact"])) { machine, clock in
                #expect(Self.scan(&machine, body: body)?.onLoop == onLoop, "\(size) bytes")
            }
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
            try await Self.withMachine(Self.caller()) { machine, clock in
                guard Self.admitted(&machine, body: Self.chat) != nil else { return }
                guard let reservation = Self.reservation(&machine, hold: hold) else { return }
                let refused = Self.refusal(machine.handle(.reserved(reservation, result)))
                #expect(refused?.outcome.status == status && refused?.outcome.reason == reason)
                #expect(refused?.release?.headers.first?.1 == "100")
            }
        }
        try await Self.withMachine(Self.caller()) { machine, clock in
            guard Self.admitted(&machine, body: Self.chat) != nil else { return }
            let refused = Self.refusal(machine.handle(.quotas(.admitted(hold), ledgerReachable: false)))
            #expect(refused?.outcome.reason == .ledgerUnavailable && refused?.release != nil)
        }
        try await Self.withMachine(Self.caller()) { machine, clock in
            guard Self.admitted(&machine, body: Self.chat) != nil else { return }
            let refused = Self.refusal(
                machine.handle(
                    .quotas(
                        .refused(limit: "team: 100 requests/min", retryAfter: 7, headers: []),
                        ledgerReachable: true
                    )
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
            try await Self.withMachine(.token("t", header, verifier)) { machine, clock in
                let asked = machine.handle(.received(ByteBuffer(string: Self.chat)))
                guard case .verifyToken(let token, _, _) = asked else {
                    Issue.record("expected the token to be verified, got \(asked)")
                    return
                }
                #expect(token == "t")
                let refused = Self.refusal(machine.handle(.identified(nil)))
                #expect(refused?.outcome.reason == .tokenNotValid && refused?.outcome.status == 401)
            }
            // A valid token: the caller it names goes on, authenticated when the verification ended.
            let traced = Self.yaml + "\ntelemetry:\n  otlp: {endpoint: \"http://127.0.0.1:1\"}\n"
            try await Self.withMachine(.token("t", header, verifier), yaml: traced, traced: true) { machine, clock in
                let start = clock.instant
                _ = machine.handle(.received(ByteBuffer(string: Self.chat)))
                clock.advance(by: .milliseconds(30))
                let caller = Identity(name: "bob", method: .jwt, labels: ["team": "x"])
                guard case .admitQuotas = machine.handle(.identified(caller)) else {
                    Issue.record("expected the quotas to be asked")
                    return
                }
                let refused = Self.refusal(machine.handle(.quotas(.unavailable, ledgerReachable: true)))
                #expect(refused?.outcome.identity == "bob" && refused?.outcome.authentication == "jwt")
                #expect(refused?.outcome.reason == .ledgerUnavailable && refused?.outcome.status == 503)
                #expect(refused?.outcome.spans?.authenticated == start + .milliseconds(30))
            }
        } catch {
            await registry.shutdown()
            throw error
        }
        await registry.shutdown()
    }

    static let twoUpstreams = """
        models:
          - name: small
            upstreams: [{url: "http://127.0.0.1:1"}, {url: "http://127.0.0.1:2"}]
        access:
          policies:
            - name: all
              selector: all()
              rules: [{action: Allow}]
        """

    /// The request admitted and sent to the model's first upstream: that upstream.
    static func firstAttempt(_ machine: inout RequestMachine) -> Upstream? {
        guard admitted(&machine, body: chat) != nil else { return nil }
        let action = machine.handle(.quotas(.admitted(noHold), ledgerReachable: true))
        guard case .attempt(let upstream, _, _, nil) = action else {
            Issue.record("expected a first attempt, got \(action)")
            return nil
        }
        return upstream
    }

    @Test func aFailedOrErringUpstreamMovesOnToTheNextAndTheLastFailureEndsWith502() async throws {
        try await Self.withMachine(Self.caller(), yaml: Self.twoUpstreams) { machine, clock in
            guard let first = Self.firstAttempt(&machine) else { return }
            #expect(first.origin == "http://127.0.0.1:1")
            // A 5xx is not relayed: the next upstream is asked, the first not marked (it answered).
            let declined = machine.handle(
                .upstreamAnswered(.success(.declined(.serviceUnavailable, excerpt: "overloaded")), clientLeft: false)
            )
            guard case .attempt(let second, _, _, nil) = declined else {
                Issue.record("expected a second attempt, got \(declined)")
                return
            }
            #expect(second.origin == "http://127.0.0.1:2")
            // A timeout marks that upstream unhealthy; none is left, so the caller gets the gateway's 502.
            let failed = machine.handle(
                .upstreamAnswered(.failure(UpstreamConnectionHandler.Timeout()), clientLeft: false)
            )
            guard case .settle(let settlement) = failed else {
                Issue.record("expected a settlement, got \(failed)")
                return
            }
            #expect(settlement.error?.status == .badGateway && settlement.error?.code == .upstreamUnavailable)
            #expect(settlement.mark?.upstream === second && settlement.mark?.healthy == false)
            let outcome = settlement.outcome
            #expect(outcome.status == 502 && outcome.reason == .upstreamTimeout && outcome.attempts == 2)
            #expect(outcome.upstream == "http://127.0.0.1:2" && outcome.upstreamStatus == 503)
            #expect(outcome.upstreamError == "overloaded" && outcome.tokensIn == nil && outcome.cost == .zero)
            // Nothing relayed: no end to write after the settlement.
            #expect(machine.handle(.settled).isNone)
        }
    }

    @Test func anUpstreamRefusingTheGatewaysCredentialEndsTheRequest() async throws {
        try await Self.withMachine(Self.caller(), yaml: Self.twoUpstreams) { machine, clock in
            guard Self.firstAttempt(&machine) != nil else { return }
            let refused = machine.handle(
                .upstreamAnswered(.success(.declined(.unauthorized, excerpt: nil)), clientLeft: false)
            )
            guard case .settle(let settlement) = refused else {
                Issue.record("expected a settlement, got \(refused)")
                return
            }
            #expect(settlement.error?.status == .badGateway && settlement.mark == nil)
            #expect(settlement.outcome.reason == .upstreamCredentialRefused && settlement.outcome.attempts == 1)
        }
    }

    @Test func aClientThatLeavesStopsTheAttemptsWithoutBlamingTheUpstream() async throws {
        // Left while the upstream was being asked: its failure says nothing of it.
        try await Self.withMachine(Self.caller(), yaml: Self.twoUpstreams) { machine, clock in
            guard Self.firstAttempt(&machine) != nil else { return }
            let left = machine.handle(.upstreamAnswered(.failure(ChannelError.eof), clientLeft: true))
            guard case .settle(let settlement) = left else {
                Issue.record("expected a settlement, got \(left)")
                return
            }
            #expect(settlement.mark == nil && settlement.error == nil)
            #expect(settlement.outcome.status == 499 && settlement.outcome.reason == .clientClosed)
        }
        // Left before the next upstream was sent the request: that attempt is not counted.
        try await Self.withMachine(Self.caller(), yaml: Self.twoUpstreams) { machine, clock in
            guard Self.firstAttempt(&machine) != nil else { return }
            let next = machine.handle(
                .upstreamAnswered(.failure(ChannelError.connectTimeout(.seconds(1))), clientLeft: false)
            )
            guard case .attempt(_, _, _, let mark?) = next else {
                Issue.record("expected a second attempt marking the first, got \(next)")
                return
            }
            #expect(!mark.healthy && mark.upstream.origin == "http://127.0.0.1:1")
            guard case .settle(let settlement) = machine.handle(.clientLeft) else {
                Issue.record("expected a settlement")
                return
            }
            // The first upstream was marked with the attempt; the settlement marks nothing again.
            #expect(settlement.mark == nil && settlement.error == nil)
            #expect(settlement.outcome.status == 499 && settlement.outcome.reason == .clientClosed)
            #expect(settlement.outcome.attempts == 1 && settlement.outcome.upstream == "http://127.0.0.1:1")
        }
        // Left before the first upstream was sent the request: no attempt, no upstream.
        try await Self.withMachine(Self.caller(), yaml: Self.twoUpstreams) { machine, clock in
            guard Self.firstAttempt(&machine) != nil else { return }
            guard case .settle(let settlement) = machine.handle(.clientLeft) else {
                Issue.record("expected a settlement")
                return
            }
            #expect(settlement.outcome.status == 499 && settlement.outcome.attempts == 0)
            #expect(settlement.outcome.upstream == nil && settlement.usage.output == 0)
        }
        // Left while an upstream answered 5xx: no other upstream is asked, and what it said is kept.
        try await Self.withMachine(Self.caller(), yaml: Self.twoUpstreams) { machine, clock in
            guard Self.firstAttempt(&machine) != nil else { return }
            let left = machine.handle(
                .upstreamAnswered(.success(.declined(.internalServerError, excerpt: "boom")), clientLeft: true)
            )
            guard case .settle(let settlement) = left else {
                Issue.record("expected a settlement, got \(left)")
                return
            }
            #expect(settlement.outcome.status == 499 && settlement.outcome.reason == .clientClosed)
            #expect(settlement.outcome.upstreamStatus == 500 && settlement.outcome.upstreamError == "boom")
            #expect(settlement.mark == nil && settlement.outcome.attempts == 1)
        }
        // Left during a relayed answer: cut off, recorded as the client's doing; no end is written.
        try await Self.withMachine(Self.caller(), yaml: Self.twoUpstreams) { machine, clock in
            guard Self.firstAttempt(&machine) != nil else { return }
            let cut = machine.handle(
                .upstreamAnswered(
                    .success(
                        .relayed(
                            .ok,
                            UpstreamExchange.Relayed(
                                bytes: 5,
                                complete: false,
                                usage: TokenUsage(input: 0, output: 2, estimated: true),
                                firstPiece: clock.instant,
                                findings: [],
                                overran: false,
                                responseModel: nil,
                                finishReasons: []
                            )
                        )
                    ),
                    clientLeft: true
                )
            )
            guard case .settle(let settlement) = cut else {
                Issue.record("expected a settlement, got \(cut)")
                return
            }
            #expect(settlement.outcome.reason == .clientClosed && settlement.outcome.status == 200)
            #expect(settlement.outcome.timeToFirstTokenMilliseconds == 0)
            #expect(machine.handle(.settled).isNone)
        }
    }

    @Test func theAccessStepEndsOnceTheDecisionIsMade() async throws {
        let traced = Self.yaml + "\ntelemetry:\n  otlp: {endpoint: \"http://127.0.0.1:1\"}\n"
        try await Self.withMachine(Self.caller(), yaml: traced, traced: true) { machine, clock in
            // Every read of the clock moves it on: the steps' stamps are read in the order they happen.
            clock.tick = .milliseconds(1)
            let refused = Self.refusal(machine.handle(.received(ByteBuffer(string: #"{"model":"large"}"#))))
            let spans = try #require(refused?.outcome.spans)
            let (authenticated, decided) = (try #require(spans.authenticated), try #require(spans.decided))
            #expect(decided - authenticated == .milliseconds(1))
            #expect(refused?.outcome.reason == .modelAccessDenied && spans.guarded == nil)
        }
    }

    @Test func aStreamTheUpstreamBreaksOffIsRecordedAsInterrupted() async throws {
        try await Self.withMachine(Self.caller(), yaml: Self.twoUpstreams) { machine, clock in
            guard Self.firstAttempt(&machine) != nil else { return }
            let usage = TokenUsage(input: 0, output: 3, estimated: true)
            guard case .settle(let settlement) = machine.handle(Self.relayed(usage, complete: false)) else {
                Issue.record("expected a settlement")
                return
            }
            #expect(settlement.outcome.reason == .streamInterrupted && settlement.mark?.healthy == true)
            #expect(machine.handle(.settled).isNone)
        }
    }

    @Test func theModelListIsTheCallersAllowedModelsWithTheirAliases() async throws {
        try await Self.withMachine(Self.caller(), path: DataPlane.Route.models.rawValue) { machine, clock in
            guard case .answer(let json, let outcome) = machine.handle(.received(ByteBuffer())) else {
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

    var isAttempt: Bool {
        if case .attempt = self { return true }
        return false
    }
}
