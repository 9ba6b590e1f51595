import GatehouseStore
import NIOCore

/// An allowed request on its way to an upstream: what settling and recording it needs afterwards.
/// A class: the request's callbacks capture it, and copying its fields into each showed in profiles.
final class SpendExchange: Sendable {
    let request: AdmittedRequest
    let identity: Identity
    let model: ModelRuntime
    let inspected: RequestInspector.Inspected
    let plan: SpendPlan
    let hold: QuotaBook.Hold
    let entry: RequestOutcome
    let body: ByteBuffer
    /// The guardrail policies that apply to the caller.
    let guardrails: [GuardrailPolicy]
    let writer: ResponseWriter
    let cancellation: RequestCancellation

    init(
        request: AdmittedRequest,
        identity: Identity,
        model: ModelRuntime,
        inspected: RequestInspector.Inspected,
        plan: SpendPlan,
        hold: QuotaBook.Hold,
        entry: RequestOutcome,
        body: ByteBuffer,
        guardrails: [GuardrailPolicy],
        writer: ResponseWriter,
        cancellation: RequestCancellation
    ) {
        self.request = request
        self.identity = identity
        self.model = model
        self.inspected = inspected
        self.plan = plan
        self.hold = hold
        self.entry = entry
        self.body = body
        self.guardrails = guardrails
        self.writer = writer
        self.cancellation = cancellation
    }
}
