import Foundation
import GatehouseCore

extension Store {
    /// The audit records `query` selects, oldest first.
    public func auditRecords(_ query: AuditQuery) throws(StoreError) -> [AuditRecord] {
        var conditions: [String] = []
        var arguments: [any SQLArgument] = []
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
            arguments.append(decision.rawValue)
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
            try db.rows(
                """
                SELECT * FROM (SELECT seq, record, previous_hash, hash FROM audit \(filter)
                ORDER BY seq DESC LIMIT ?) AS newest ORDER BY seq
                """,
                arguments,
                cached: false
            )
            .map { row in
                let text: String = try row["record"]
                return AuditRecord(
                    sequence: try row["seq"],
                    entry: try decoder.decode(AuditEntry.self, from: Data(text.utf8)),
                    previousHash: try row["previous_hash"],
                    hash: try row["hash"]
                )
            }
        }
    }

    /// Walks the whole chain: every record must follow the one before without a gap, name its hash, and
    /// hash to what it says. Reads in pages, in one snapshot, so a long trail does not sit in memory and
    /// records written meanwhile (by any gateway) are checked next time.
    public func verifyAudit() throws(StoreError) -> AuditVerification {
        try read { db in
            var expectedPrevious = AuditChain.origin
            var expectedSequence: Int64 = 1
            var count: Int64 = 0
            var after: Int64 = .min
            while true {
                let page = try db.rows(
                    "SELECT seq, record, previous_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?",
                    [after, Self.auditPage]
                )
                for row in page {
                    let sequence: Int64 = try row[0]
                    let text: String = try row[1]
                    let previous: String = try row[2]
                    let hash: String = try row[3]
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
                    after = sequence
                }
                if page.count < Self.auditPage { break }
            }
            return AuditVerification(
                records: count,
                headSequence: count > 0 ? expectedSequence - 1 : nil,
                headHash: count > 0 ? expectedPrevious : nil,
                firstBreak: nil
            )
        }
    }

    /// Audit records read at a time by `verifyAudit`.
    static let auditPage = 10_000

    /// Requests, tokens and cost per identity and model between `since` and `until`, from the audit trail.
    public func usage(identity: String? = nil, since: Date?, until: Date?) throws(StoreError) -> [UsageSummary] {
        var conditions: [String] = ["identity IS NOT NULL"]
        var arguments: [any SQLArgument] = []
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
            try db.rows(
                """
                SELECT identity, COALESCE(model, '') AS model, COUNT(*) AS requests,
                    CAST(SUM(CASE WHEN decision = 'deny' THEN 1 ELSE 0 END) AS BIGINT) AS denied,
                    CAST(COALESCE(SUM(tokens_in), 0) AS BIGINT) AS tokens_in,
                    CAST(COALESCE(SUM(tokens_out), 0) AS BIGINT) AS tokens_out,
                    CAST(SUM(estimated) AS BIGINT) AS estimated, CAST(COALESCE(SUM(cost_pusd), 0) AS BIGINT) AS cost
                FROM audit WHERE \(conditions.joined(separator: " AND "))
                GROUP BY identity, COALESCE(model, '') ORDER BY identity, model
                """,
                arguments,
                cached: false
            )
            .map { row in
                UsageSummary(
                    identity: try row["identity"],
                    model: try row["model"],
                    requests: try row["requests"],
                    denied: try row["denied"],
                    tokensIn: try row["tokens_in"],
                    tokensOut: try row["tokens_out"],
                    estimated: try row["estimated"],
                    cost: Cost(picodollars: try row["cost"])
                )
            }
        }
    }
}
