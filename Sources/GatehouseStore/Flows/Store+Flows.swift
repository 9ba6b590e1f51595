import Foundation
import GRDB
import GatehouseCore

extension Store {
    /// Appends flows in one transaction; returns the id of the last row written.
    @discardableResult
    public func insertFlows(_ flows: [FlowRecord]) throws(StoreError) -> Int64 {
        guard !flows.isEmpty else { return try lastFlowID() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var traces: [FlowTrace: String] = [:]
        return try write { db in
            let statement = try db.cachedStatement(
                sql:
                    "INSERT INTO flow (\(FlowRow.columns)) VALUES (\(Array(repeating: "?", count: 27).joined(separator: ",")))"
            )
            for flow in flows {
                let policies: String
                if let known = traces[flow.policies] {
                    policies = known
                } else if flow.policies.enforced.isEmpty && flow.policies.pending == nil {
                    policies = "{}"
                } else {
                    policies = String(decoding: try encoder.encode(flow.policies), as: UTF8.self)
                    traces[flow.policies] = policies
                }
                try statement.execute(arguments: FlowRow.arguments(flow, policies: policies))
            }
            return db.lastInsertedRowID
        }
    }

    /// The flows `query` selects, oldest first (by end time, then by row id), or, when following, in
    /// the order they were stored.
    public func flows(_ query: FlowQuery) throws(StoreError) -> [StoredFlow] {
        let (conditions, arguments) = Self.conditions(for: query)
        let filter = query.filter
        let limit = max(query.limit, 0)
        let pageSize = max(limit, 256)
        let following = query.after != nil
        let decoder = JSONDecoder()
        // Rows are read in pages: conditions narrow in SQL, then the filter decides (selectors, name
        // prefixes, policy names).
        return try read { db in
            var found: [StoredFlow] = []
            var cursor: (end: Int64, id: Int64)?
            while found.count < limit {
                var pageConditions = conditions
                var pageArguments = arguments
                if let cursor {
                    if following {
                        pageConditions.append("id > ?")
                        pageArguments.append(cursor.id)
                    } else {
                        pageConditions.append("(end_ms < ? OR (end_ms = ? AND id < ?))")
                        pageArguments += [cursor.end, cursor.end, cursor.id]
                    }
                }
                let whereClause = pageConditions.isEmpty ? "" : "WHERE " + pageConditions.joined(separator: " AND ")
                let order = following ? "id" : "end_ms DESC, id DESC"
                let page = try Row.fetchAll(
                    db,
                    sql: "SELECT id, \(FlowRow.columns) FROM flow \(whereClause) ORDER BY \(order) LIMIT ?",
                    arguments: StatementArguments(pageArguments + [pageSize])
                )
                for row in page {
                    let stored = try FlowRow.flow(from: row, decoder: decoder)
                    cursor = (row["end_ms"], stored.id)
                    guard filter.matches(stored.flow) else { continue }
                    found.append(stored)
                    if found.count == limit { break }
                }
                if page.count < pageSize { break }
            }
            return following ? found : found.reversed()
        }
    }

    /// The id of the newest stored flow (0 when there is none).
    public func lastFlowID() throws(StoreError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT max(id) FROM flow") ?? 0 }
    }

    /// The number of stored flows.
    public func flowCount() throws(StoreError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM flow") ?? 0 }
    }

    /// Deletes flows that ended before `cutoff`; returns how many.
    @discardableResult
    public func deleteFlows(endingBefore cutoff: Date) throws(StoreError) -> Int {
        try write { db in
            try db.execute(sql: "DELETE FROM flow WHERE end_ms < ?", arguments: [FlowRow.milliseconds(cutoff)])
            return db.changesCount
        }
    }

    /// The SQL that narrows a query: every condition here is implied by the filter, never stricter.
    private static func conditions(for query: FlowQuery) -> ([String], [any DatabaseValueConvertible]) {
        let filter = query.filter
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        func oneOf(_ column: String, _ values: [String]) {
            guard !values.isEmpty else { return }
            conditions.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ",")))")
            arguments.append(contentsOf: values)
        }
        oneOf("src_kind", filter.sourceKinds.map(\.rawValue))
        oneOf("dst_kind", filter.destinationKinds.map(\.rawValue))
        oneOf("action", filter.actions.map(\.rawValue))
        oneOf("reporter", filter.reporters.map(\.rawValue))
        oneOf("reason", Array(filter.reasons))
        oneOf("route", Array(filter.routes))
        for (column, namespaces) in [
            ("src_namespace", filter.sourceNamespaces), ("dst_namespace", filter.destinationNamespaces),
        ]
        where !namespaces.isEmpty {
            // The empty namespace is how a filter names "no namespace".
            let named = namespaces.filter { !$0.isEmpty }
            var alternatives: [String] = []
            if !named.isEmpty {
                alternatives.append(
                    "\(column) IN (\(Array(repeating: "?", count: named.count).joined(separator: ",")))"
                )
                arguments.append(contentsOf: Array(named))
            }
            if namespaces.contains("") { alternatives.append("\(column) IS NULL") }
            conditions.append("(" + alternatives.joined(separator: " OR ") + ")")
        }
        if !filter.ports.isEmpty {
            conditions.append("port IN (\(filter.ports.map { String($0) }.joined(separator: ",")))")
        }
        if let since = filter.since {
            conditions.append("end_ms >= ?")
            arguments.append(FlowRow.milliseconds(since))
        }
        if let until = filter.until {
            conditions.append("start_ms < ?")
            arguments.append(FlowRow.milliseconds(until))
        }
        if let after = query.after {
            conditions.append("id > ?")
            arguments.append(after)
        }
        return (conditions, arguments)
    }
}
