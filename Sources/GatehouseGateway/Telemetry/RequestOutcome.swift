import GatehouseCore
import GatehouseStore

/// Everything the gateway keeps of one request, the one record its audit entry, flow record, metrics,
/// spans and log line are all made from: the audit entry (read and written through as if it were the
/// entry: verdict, typed reason, typed guardrail findings, usage reported or estimated, cost, timings,
/// upstream), and what the others need beyond it.
@dynamicMemberLookup
struct RequestOutcome: Sendable {
    var audit: AuditEntry
    /// The model access decision with its trace, once made.
    var access: Evaluation?
    var modelLabels: Labels?
    var bytesIn = 0
    var bytesOut = 0
    /// Whether the answer was streamed (time to first token is a streaming measure).
    var stream = false
    /// The request's part in a trace, when it is sampled.
    var spans: RequestSpans?
    /// When the request was admitted: the log line's duration runs from here to the line.
    var started: ContinuousClock.Instant?
    /// Which limit, budget or failure, beside the reason (the log line's; never request text).
    var detail: String?
    /// The upstream answer: how many upstreams were tried, the status of one that failed, its error.
    var attempts: Int?
    var upstreamStatus: Int?
    var upstreamError: String?
    /// The output bound an upstream went past, when it did.
    var overranBound: Int?

    init(_ audit: AuditEntry) {
        self.audit = audit
    }

    subscript<Value>(dynamicMember keyPath: WritableKeyPath<AuditEntry, Value>) -> Value {
        get { audit[keyPath: keyPath] }
        set { audit[keyPath: keyPath] = newValue }
    }
}
