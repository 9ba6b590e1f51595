import GatehouseCore
import GatehouseStore

/// What the gateway keeps of one request for its records: the audit entry (read and written through
/// as if it were the entry), and what the flow record and metrics need beyond it.
@dynamicMemberLookup
struct RequestRecord: Sendable {
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

    init(_ audit: AuditEntry) {
        self.audit = audit
    }

    subscript<Value>(dynamicMember keyPath: WritableKeyPath<AuditEntry, Value>) -> Value {
        get { audit[keyPath: keyPath] }
        set { audit[keyPath: keyPath] = newValue }
    }
}
