/// The result of checking the audit trail's hash chain from the first record to the last.
public struct AuditVerification: Sendable, Hashable {
    /// The first record that breaks the chain (edited, removed, reordered), with what is wrong.
    public struct Break: Sendable, Hashable {
        public var sequence: Int64
        public var problem: String
    }

    public var records: Int64
    /// The last record's sequence number and hash: write them down elsewhere to detect a cut tail.
    public var headSequence: Int64?
    public var headHash: String?
    public var firstBreak: Break?

    public var intact: Bool { firstBreak == nil }
}
