import Foundation
import GRDB
import GatehouseCore

extension Store {
    /// The audit records `query` selects, oldest first.
    public func auditRecords(_ query: AuditQuery) throws(StoreError) -> [AuditRecord] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let identity = query.identity {
            conditions.append("identity = ?")
            arguments.append(identity)
        }
        if let model = query.model {
            conditions.append("model = ?")
            arguments.append(model)
        }
        if let decision = query.decision {
            conditions.append("decision = ?")
            arguments.append(decision)
        }
        if let since = query.since {
            conditions.append("time >= ?")
            arguments.append(since.timeIntervalSince1970)
        }
        if let until = query.until {
            conditions.append("time < ?")
            arguments.append(until.timeIntervalSince1970)
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        arguments.append(max(query.limit, 0))
        let decoder = AuditChain.makeDecoder()
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM (SELECT seq, record, previous_hash, hash FROM audit \(filter)
                    ORDER BY seq DESC LIMIT ?) ORDER BY seq
                    """,
                arguments: StatementArguments(arguments)
            )
            .map { row in
                let text: String = row["record"]
                return AuditRecord(
                    sequence: row["seq"],
                    entry: try decoder.decode(AuditEntry.self, from: Data(text.utf8)),
                    previousHash: row["previous_hash"],
                    hash: row["hash"]
                )
            }
        }
    }

    /// Walks the whole chain: every record must follow the one before without a gap, name its hash, and
    /// hash to what it says. Reads in pages so a long trail does not sit in memory.
    public func verifyAudit() throws(StoreError) -> AuditVerification {
        try read { db in
            var expectedPrevious = AuditChain.origin
            var expectedSequence: Int64 = 1
            var count: Int64 = 0
            let cursor = try Row.fetchCursor(db, sql: "SELECT seq, record, previous_hash, hash FROM audit ORDER BY seq")
            while let row = try cursor.next() {
                let sequence: Int64 = row["seq"]
                let text: String = row["record"]
                let previous: String = row["previous_hash"]
                let hash: String = row["hash"]
                count += 1
                func broken(_ problem: String) -> AuditVerification {
                    AuditVerification(
                        records: count,
                        headSequence: nil,
                        headHash: nil,
                        firstBreak: .init(sequence: sequence, problem: problem)
                    )
                }
                if sequence != expectedSequence {
                    return broken("records \(expectedSequence) to \(sequence - 1) are missing")
                }
                if previous != expectedPrevious {
                    return broken("it does not follow the record before it (previous hash differs)")
                }
                if AuditChain.hash(previous: previous, text: text) != hash {
                    return broken("its content was changed after it was written (hash differs)")
                }
                expectedPrevious = hash
                expectedSequence += 1
            }
            return AuditVerification(
                records: count,
                headSequence: count > 0 ? expectedSequence - 1 : nil,
                headHash: count > 0 ? expectedPrevious : nil,
                firstBreak: nil
            )
        }
    }

    /// Requests, tokens and cost per identity and model between `since` and `until`, from the audit trail.
    public func usage(identity: String? = nil, since: Date?, until: Date?) throws(StoreError) -> [UsageSummary] {
        var conditions: [String] = ["identity IS NOT NULL"]
        var arguments: [any DatabaseValueConvertible] = []
        if let identity {
            conditions.append("identity = ?")
            arguments.append(identity)
        }
        if let since {
            conditions.append("time >= ?")
            arguments.append(since.timeIntervalSince1970)
        }
        if let until {
            conditions.append("time < ?")
            arguments.append(until.timeIntervalSince1970)
        }
        return try read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT identity, COALESCE(model, '') AS model, COUNT(*) AS requests,
                        SUM(decision = 'deny') AS denied, COALESCE(SUM(tokens_in), 0) AS tokens_in,
                        COALESCE(SUM(tokens_out), 0) AS tokens_out, SUM(estimated) AS estimated,
                        COALESCE(SUM(cost_pusd), 0) AS cost
                    FROM audit WHERE \(conditions.joined(separator: " AND "))
                    GROUP BY identity, model ORDER BY identity, model
                    """,
                arguments: StatementArguments(arguments)
            )
            .map { row in
                UsageSummary(
                    identity: row["identity"],
                    model: row["model"],
                    requests: row["requests"],
                    denied: row["denied"],
                    tokensIn: row["tokens_in"],
                    tokensOut: row["tokens_out"],
                    estimated: row["estimated"],
                    cost: Cost(picodollars: row["cost"])
                )
            }
        }
    }
}
