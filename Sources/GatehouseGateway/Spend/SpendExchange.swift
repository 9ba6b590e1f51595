import GatehouseStore
import NIOCore

/// An allowed request on its way to an upstream: what settling and recording it needs afterwards.
struct SpendExchange: Sendable {
    let request: AdmittedRequest
    let identity: Identity
    let model: ModelRuntime
    let inspected: RequestInspector.Inspected
    let plan: SpendPlan
    let hold: QuotaBook.Hold
    let entry: RequestRecord
    let body: ByteBuffer
    /// The guardrail policies that apply to the caller.
    let guardrails: [GuardrailPolicy]
    let writer: ResponseWriter
    let cancellation: RequestCancellation
}
