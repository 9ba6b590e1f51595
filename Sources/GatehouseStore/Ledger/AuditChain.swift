import Crypto
import Foundation
import GRDB
import GatehouseCore

/// Appends audit records inside a write transaction, each hashed together with the one before.
struct AuditChain {
    static let origin = String(repeating: "0", count: 64)

    private var sequence: Int64
    private var previousHash: String

    init(db: Database) throws {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        sequence = last?["seq"] ?? 0
        previousHash = last?["hash"] ?? Self.origin
    }

    mutating func append(_ entry: AuditEntry, text: String? = nil, in db: Database) throws {
        let text = text ?? AuditEntryJSON.encode(entry)
        let hash = Self.hash(previous: previousHash, text: text)
        sequence += 1
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO audit (seq, time, request_id, identity, model, decision, status, tokens_in, tokens_out,
                    estimated, cost_pusd, record, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        )
        try statement.execute(arguments: [
            sequence, entry.time.timeIntervalSince1970, entry.requestID, entry.identity, entry.model,
            entry.decision, entry.status, entry.tokensIn, entry.tokensOut, entry.tokensEstimated == true,
            entry.cost?.picodollars, text, previousHash, hash,
        ])
        previousHash = hash
    }

    /// Hex SHA-256 of the previous hash, a newline, and the record's stored text.
    static func hash(previous: String, text: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(previous.utf8))
        hasher.update(data: [UInt8(ascii: "\n")])
        hasher.update(data: Array(text.utf8))
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
