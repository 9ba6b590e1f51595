import Foundation
import GatehouseCore
import NIOCore
import NIOHTTP1
import NIOPosix

/// Carries out one request's `RequestMachine`: each action with the event loop, the store, the
/// guardrails and the upstreams, each answer fed back as the next event.
/// A caller known from the head is answered without a Swift task, as futures on the connection's event
/// loop; a bearer token is verified in a task on that same loop (jwt-kit is asynchronous).
///
/// Used only on the connection's event loop (hence unchecked): every callback below hops there first.
final class RequestRun: @unchecked Sendable {
    private var machine: RequestMachine
    private let plane: DataPlane
    private let writer: ResponseWriter
    private let cancellation: RequestCancellation

    init(plane: DataPlane, request: AdmittedRequest, writer: ResponseWriter, cancellation: RequestCancellation) {
        self.machine = RequestMachine(request: request)
        self.plane = plane
        self.writer = writer
        self.cancellation = cancellation
    }

    func handle(_ event: RequestMachine.Event) {
        perform(machine.handle(event))
    }

    private func perform(_ action: RequestMachine.Action) {
        let eventLoop = writer.channel.eventLoop
        switch action {
        case .none:
            break
        case .verifyToken(let token, let header, let verifier):
            cancellation.hold(
                Task(executorPreference: plane.executors.executor(for: eventLoop)) {
                    let identity = await verifier.identify(token: token, header: header, now: Date())
                    // A client that left is not served; a token found invalid is still recorded.
                    guard identity == nil || !Task.isCancelled else { return }
                    if eventLoop.inEventLoop {
                        self.handle(.identified(identity))
                    } else {
                        eventLoop.execute { self.handle(.identified(identity)) }
                    }
                }
            )
        case .scan(let body, let guardrails, onLoop: true):
            let verdict = PromptGuard.check(body, policies: guardrails)
            handle(.scanned(verdict, clientLeft: cancellation.isCancelled))
        case .scan(let body, let guardrails, onLoop: false):
            // A large body is scanned off the event loop, so the other connections it serves are not kept
            // waiting.
            NIOThreadPool.singleton.runIfActive(eventLoop: eventLoop) {
                PromptGuard.check(body, policies: guardrails)
            }.whenComplete { result in
                self.handle(.scanned(try? result.get(), clientLeft: self.cancellation.isCancelled))
            }
        case .admitQuotas(let plan):
            switch plane.quotaBook.admit(plan.demands, tokens: plan.admissionTokens(), on: eventLoop) {
            case .now(let admission): admitted(admission)
            case .later(let admission): admission.whenSuccess(admitted)
            }
        case .reserve(let amount, let budgets):
            let reservation = plane.ledger.reservation(of: amount, against: budgets)
            switch plane.ledger.reserve(reservation, on: eventLoop) {
            case .now(let result): handle(.reserved(reservation, result))
            case .later(let result): result.whenSuccess { self.handle(.reserved(reservation, $0)) }
            }
        case .attempt(let upstream, let model, let request, let mark):
            if let mark { mark.upstream.markHealthy(mark.healthy) }
            guard !cancellation.isCancelled else {
                handle(.clientLeft)
                return
            }
            Forwarder.send(request, to: upstream, of: model, writer: writer, cancellation: cancellation) { answer in
                self.handle(.upstreamAnswered(answer, clientLeft: self.cancellation.isCancelled))
            }
        case .settle(let settlement):
            if let mark = settlement.mark { mark.upstream.markHealthy(mark.healthy) }
            if let error = settlement.error { writer.writeError(error) }
            plane.quotaBook.finish(settlement.hold, usage: settlement.usage)
            if let ledger = settlement.ledger,
                case .later(let recorded) = plane.ledger.finish(
                    ledger.reservation,
                    cost: ledger.cost,
                    record: ledger.audit,
                    on: eventLoop
                )
            {
                recorded.whenComplete { _ in self.handle(.settled) }
            } else {
                // Nothing to record, or recorded at once: the caller's answer first; the report is
                // bookkeeping it need not wait for.
                handle(.settled)
            }
            plane.report(settlement.outcome)
        case .writeEnd:
            writer.writeEnd()
        case .refuse(let error, let outcome, let release):
            if let release { plane.quotaBook.finish(release, usage: TokenUsage(input: 0, output: 0, estimated: false)) }
            plane.record(outcome)
            writer.writeError(error)
        case .answer(let json, let outcome):
            plane.record(outcome)
            writer.writeJSON(status: .ok, json)
        case .record(let outcome):
            plane.record(outcome)
        }
    }

    private func admitted(_ admission: QuotaBook.Admission) {
        handle(.quotas(admission, ledgerReachable: plane.ledger.canRecord))
    }
}
