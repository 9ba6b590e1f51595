/// What `Store.copy(into:)` moved, and the audit chain's head as it arrived.
public struct StoreCopy: Sendable, Hashable {
    public var keys = 0
    public var budgets = 0
    public var auditRecords = 0
    public var flows = 0
    /// The head of the copied chain, which the target verified to be the source's.
    public var auditHead: String?
}
