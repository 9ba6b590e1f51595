/// An audit entry as stored: its place in the chain and the hashes that tie it to the one before.
public struct AuditRecord: Sendable, Hashable {
    public var sequence: Int64
    public var entry: AuditEntry
    /// Hex SHA-256 of the record before (64 zeros for the first).
    public var previousHash: String
    /// Hex SHA-256 of `previousHash`, a newline and the stored JSON text.
    public var hash: String

    public init(sequence: Int64, entry: AuditEntry, previousHash: String, hash: String) {
        self.sequence = sequence
        self.entry = entry
        self.previousHash = previousHash
        self.hash = hash
    }
}
