import Crypto
import Foundation
import GatehouseCore

/// Appends audit records inside a write transaction, each hashed together with the one before. Rows go
/// in `rowsPerInsert` at a time (one round trip each on PostgreSQL); `flush` writes the rest and must
/// run before the transaction commits.
struct AuditChain {
    static let origin = String(repeating: "0", count: 64)
    static let rowsPerInsert = 64
    private static let columns = """
        seq, time, request_id, identity, model, decision, status, tokens_in, tokens_out, estimated, cost_pusd,
        record, previous_hash, hash
        """
    private static let columnCount = 14

    /// The newest record of a chain: its sequence number and hash (the origin's for an empty trail).
    struct Head: Sendable, Equatable {
        var sequence: Int64
        var hash: String

        static let empty = Head(sequence: 0, hash: AuditChain.origin)
    }

    /// One record as it joins the chain.
    struct Link {
        var sequence: Int64
        var text: String
        var previousHash: String
        var hash: String
    }

    private(set) var head: Head
    private var pending: [any SQLArgument] = []

    init(db: any SQLSession) throws {
        head = try Self.head(in: db)
    }

    init(head: Head) {
        self.head = head
    }

    /// The newest record in the store.
    static func head(in db: any SQLSession) throws -> Head {
        guard let last = try db.row("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1") else { return .empty }
        return Head(sequence: try last[0], hash: try last[1])
    }

    /// Chains `entry` after the head (stored as `text` when it was encoded already); the head moves to it.
    mutating func link(_ entry: AuditEntry, text: String? = nil) -> Link {
        let text = text ?? AuditEntryJSON.encode(entry)
        let link = Link(
            sequence: head.sequence + 1,
            text: text,
            previousHash: head.hash,
            hash: Self.hash(previous: head.hash, text: text)
        )
        head = Head(sequence: link.sequence, hash: link.hash)
        return link
    }

    mutating func append(_ entry: AuditEntry, text: String? = nil, in db: any SQLSession) throws {
        let link = link(entry, text: text)
        pending +=
            [
                link.sequence, entry.time.timeIntervalSince1970, entry.requestID, entry.identity, entry.model,
                entry.decision.rawValue, entry.status, entry.tokensIn, entry.tokensOut, entry.tokensEstimated == true,
                entry.cost?.picodollars, link.text, link.previousHash, link.hash,
            ] as [any SQLArgument]
        if pending.count == Self.rowsPerInsert * Self.columnCount {
            try db.execute(Self.insert(rows: Self.rowsPerInsert), pending)
            pending.removeAll(keepingCapacity: true)
        }
    }

    /// Writes the records not written yet.
    mutating func flush(in db: any SQLSession) throws {
        guard !pending.isEmpty else { return }
        // The remainder's statement varies in length: not kept prepared.
        try db.execute(Self.insert(rows: pending.count / Self.columnCount), pending, cached: false)
        pending.removeAll()
    }

    private static func insert(rows: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columnCount).joined(separator: ",") + ")"
        return "INSERT INTO audit (\(columns)) VALUES " + Array(repeating: row, count: rows).joined(separator: ",")
    }

    /// Hex SHA-256 of the previous hash, a newline, and the record's stored text.
    static func hash(previous: String, text: String) -> String {
        var hasher = SHA256()
        // Hashed where the strings keep their bytes (runs once per record, on the ledger's one thread).
        var previous = previous
        var text = text
        previous.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(ascii: "\n")) { hasher.update(bufferPointer: $0) }
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in hasher.finalize() {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }
}
