import Crypto
import Foundation
import GRDB
import GatehouseCore

/// Appends audit records inside a write transaction, each hashed together with the one before.
struct AuditChain {
    static let origin = String(repeating: "0", count: 64)

    private var sequence: Int64
    private var previousHash: String
    private let encoder: JSONEncoder

    init(db: Database) throws {
        let last = try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        sequence = last?["seq"] ?? 0
        previousHash = last?["hash"] ?? Self.origin
        encoder = Self.makeEncoder()
    }

    mutating func append(_ entry: AuditEntry, in db: Database) throws {
        let text = String(decoding: try encoder.encode(entry), as: UTF8.self)
        let hash = Self.hash(previous: previousHash, text: text)
        sequence += 1
        try db.execute(
            sql: """
                INSERT INTO audit (seq, time, request_id, identity, model, decision, status, tokens_in, tokens_out,
                    estimated, cost_pusd, record, previous_hash, hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                sequence, entry.time.timeIntervalSince1970, entry.requestID, entry.identity, entry.model,
                entry.decision, entry.status, entry.tokensIn, entry.tokensOut, entry.tokensEstimated == true,
                entry.cost?.picodollars, text, previousHash, hash,
            ]
        )
        previousHash = hash
    }

    /// Hex SHA-256 of the previous hash, a newline, and the record's stored text.
    static func hash(previous: String, text: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(previous.utf8))
        hasher.update(data: [UInt8(ascii: "\n")])
        hasher.update(data: Array(text.utf8))
        return hasher.finalize().map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }

    /// Sorted keys and Unix-time dates: one text per record, stable across versions.
    static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }

    static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }
}
