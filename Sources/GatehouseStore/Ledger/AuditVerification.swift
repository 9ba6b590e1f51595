/// The result of checking the audit trail's hash chain from the first record to the last.
public struct AuditVerification: Sendable, Hashable {
    public var records: Int64
    /// The last record's sequence number and hash: write them down elsewhere to detect a cut tail.
    public var headSequence: Int64?
    public var headHash: String?
    /// The first record that breaks the chain (edited, removed, reordered), with what is wrong.
    public var firstBreak: (sequence: Int64, problem: String)?

    public var intact: Bool { firstBreak == nil }

    public init(records: Int64, headSequence: Int64?, headHash: String?, firstBreak: (Int64, String)?) {
        self.records = records
        self.headSequence = headSequence
        self.headHash = headHash
        self.firstBreak = firstBreak.map { (sequence: $0.0, problem: $0.1) }
    }

    public static func == (lhs: AuditVerification, rhs: AuditVerification) -> Bool {
        lhs.records == rhs.records && lhs.headSequence == rhs.headSequence && lhs.headHash == rhs.headHash
            && lhs.firstBreak?.sequence == rhs.firstBreak?.sequence
            && lhs.firstBreak?.problem == rhs.firstBreak?.problem
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(records)
        hasher.combine(headHash)
        hasher.combine(firstBreak?.sequence)
    }
}
