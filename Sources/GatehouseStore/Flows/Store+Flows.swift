import Foundation
import GatehouseCore

extension Store {
    /// Appends flows in one transaction; returns the id of the last row written.
    @discardableResult
    public func insertFlows(_ flows: [FlowRecord]) throws(StoreError) -> Int64 {
        guard !flows.isEmpty else { return try lastFlowID() }
        let encoder = JSONEncoder()
        // Slashes as they are, so a policy name search (`"name":"team/chat"`) finds what was written.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try write { db in
            // Labels and traces repeat: each distinct text is kept once in flow_text, and each distinct
            // value is encoded and looked up once per batch.
            var textIDs: [String: Int64] = [:]
            func id(of text: String) throws -> Int64 {
                if let known = textIDs[text] { return known }
                let id: Int64 =
                    try db.value(db.dialect.flowTextLookup, db.dialect.flowTextLookupArguments(text))
                    ?? db.value("INSERT INTO flow_text (text) VALUES (?) RETURNING id", [text])!
                textIDs[text] = id
                return id
            }
            var endpoints: [FlowPeer: Int64] = [:]
            func id(of endpoint: FlowPeer) throws -> Int64 {
                if let known = endpoints[endpoint] { return known }
                let arguments: [any SQLArgument] = [endpoint.kind.rawValue, endpoint.namespace ?? "", endpoint.name]
                let id: Int64 =
                    try db.value(
                        "SELECT id FROM flow_endpoint WHERE kind = ? AND namespace = ? AND name = ?",
                        arguments
                    )
                    ?? db.value(
                        "INSERT INTO flow_endpoint (kind, namespace, name) VALUES (?, ?, ?) RETURNING id",
                        arguments
                    )!
                endpoints[endpoint] = id
                return id
            }
            var traces: [FlowTrace: Int64] = [:]
            var labels: [[String: String]: Int64] = [:]
            func labelsID(_ value: [String: String]) throws -> Int64 {
                if let known = labels[value] { return known }
                let made = try id(of: FlowLabelsText.encode(value))
                labels[value] = made
                return made
            }
            func rowArguments(_ flow: FlowRecord) throws -> [any SQLArgument] {
                let policies: Int64
                if let known = traces[flow.policies] {
                    policies = known
                } else {
                    let text =
                        flow.policies == FlowTrace()
                        ? "{}" : String(decoding: try encoder.encode(flow.policies), as: UTF8.self)
                    policies = try id(of: text)
                    traces[flow.policies] = policies
                }
                return FlowRow.arguments(
                    flow,
                    source: try id(of: flow.source),
                    sourceLabels: try labelsID(flow.sourceLabels),
                    destination: try id(of: flow.destination),
                    destinationLabels: try labelsID(flow.destinationLabels),
                    policies: policies
                )
            }
            // Rows go in FlowRow.rowsPerInsert at a time (one statement each), the rest one by one.
            let row = "(" + Array(repeating: "?", count: FlowRow.columnCount).joined(separator: ",") + ")"
            let many =
                "INSERT INTO flow (\(FlowRow.columns)) VALUES "
                + Array(repeating: row, count: FlowRow.rowsPerInsert).joined(separator: ",")
            let one = "INSERT INTO flow (\(FlowRow.columns)) VALUES \(row) RETURNING id"
            var index = flows.startIndex
            var last: Int64 = 0
            while flows.endIndex - index >= FlowRow.rowsPerInsert {
                var arguments: [any SQLArgument] = []
                for flow in flows[index..<index + FlowRow.rowsPerInsert] { arguments += try rowArguments(flow) }
                if index + FlowRow.rowsPerInsert == flows.endIndex {
                    last = try db.rows(many + " RETURNING id", arguments).map { row -> Int64 in try row[0] }.max() ?? 0
                } else {
                    try db.execute(many, arguments)
                }
                index += FlowRow.rowsPerInsert
            }
            for flow in flows[index...] { last = try db.value(one, rowArguments(flow)) ?? last }
            return last
        }
    }

    /// The flows `query` selects, oldest first (by end time, then by row id), or, when following, in
    /// the order they were stored.
    public func flows(_ query: FlowQuery) throws(StoreError) -> [StoredFlow] {
        let terms = Self.terms(for: query, database.dialect)
        let filter = query.filter
        let limit = max(query.limit, 0)
        let pageSize = max(limit, 256)
        let following = query.after != nil
        let traces = FlowRow.TraceCache()
        return try read { db in
            // Endpoint filters can use the src and dst indexes, then sort what they found: right when
            // they match few flows. When they match many, walking the end_ms index newest first finds
            // the newest matches sooner; a bounded count decides, and "+" keeps SQLite off the index.
            var endpointIndexes = true
            let endpointTerms = terms.filter(\.endpoint)
            if !endpointTerms.isEmpty && !following {
                let matching: Int? = try db.value(
                    "SELECT count(*) FROM (SELECT 1 FROM flow WHERE "
                        + endpointTerms.map { $0.sql(indexed: true) }.joined(separator: " AND ")
                        + " LIMIT \(Self.sortedMatchLimit + 1)) AS matching",
                    endpointTerms.flatMap(\.arguments),
                    cached: false
                )
                endpointIndexes = (matching ?? 0) <= Self.sortedMatchLimit
            }
            let conditions = terms.map { $0.sql(indexed: endpointIndexes) }
            let arguments = terms.flatMap(\.arguments)
            // Rows are read in pages: conditions narrow in SQL, then the filter decides (selectors).
            var found: [StoredFlow] = []
            var cursor: (end: Int64, id: Int64)?
            while found.count < limit {
                var pageConditions = conditions
                var pageArguments = arguments
                if let cursor {
                    if following {
                        pageConditions.append("flow.id > ?")
                        pageArguments.append(cursor.id)
                    } else {
                        // A row value keeps the scan on the end_ms index.
                        pageConditions.append("(end_ms, flow.id) < (?, ?)")
                        pageArguments += [cursor.end, cursor.id]
                    }
                }
                let whereClause = pageConditions.isEmpty ? "" : "WHERE " + pageConditions.joined(separator: " AND ")
                let order = following ? "flow.id" : "end_ms DESC, flow.id DESC"
                let page = try db.rows(
                    "\(FlowRow.selection(db.dialect)) \(whereClause) ORDER BY \(order) LIMIT ?",
                    pageArguments + [pageSize],
                    cached: false
                )
                for row in page {
                    let stored = try FlowRow.flow(from: row, traces: traces)
                    cursor = (try row[2], stored.id)
                    guard filter.matches(stored.flow) else { continue }
                    found.append(stored)
                    if found.count == limit { break }
                }
                if page.count < pageSize { break }
            }
            return following ? found : found.reversed()
        }
    }

    /// Up to this many flows matched by endpoint filters are found by index and sorted.
    static let sortedMatchLimit = 20_000

    /// Refreshes the statistics the query planner chooses indexes by.
    public func optimizeFlowQueries() throws(StoreError) {
        try write { db in
            try db.execute(db.dialect == .sqlite ? "PRAGMA optimize" : "ANALYZE flow, flow_endpoint", [], cached: false)
        }
    }

    /// The id of the newest stored flow (0 when there is none).
    public func lastFlowID() throws(StoreError) -> Int64 {
        try read { db in try db.value("SELECT max(id) FROM flow") ?? 0 }
    }

    /// The number of stored flows.
    public func flowCount() throws(StoreError) -> Int {
        try read { db in try db.value("SELECT count(*) FROM flow") ?? 0 }
    }

    /// Deletes flows that ended before `cutoff`, and the endpoints, label sets and traces no flow refers
    /// to any more; returns how many flows.
    @discardableResult
    public func deleteFlows(endingBefore cutoff: Date) throws(StoreError) -> Int {
        try write { db in
            let removed = try db.execute("DELETE FROM flow WHERE end_ms < ?", [FlowRow.milliseconds(cutoff)])
            guard removed > 0 else { return 0 }
            try db.execute(
                "DELETE FROM flow_endpoint WHERE id NOT IN (SELECT src FROM flow UNION SELECT dst FROM flow)"
            )
            try db.execute(
                """
                DELETE FROM flow_text WHERE id NOT IN
                    (SELECT src_labels FROM flow UNION SELECT dst_labels FROM flow UNION SELECT policies FROM flow)
                """
            )
            return removed
        }
    }

    /// One condition of a query. An endpoint condition names its column as `§src` or `§dst`, to be
    /// written with or without a "+" (which keeps SQLite from using that column's index).
    struct Term {
        let sql: String
        let arguments: [any SQLArgument]
        var endpoint: Bool { sql.contains("§") }

        func sql(indexed: Bool) -> String {
            let prefix = indexed ? "flow." : "+flow."
            return sql.replacingOccurrences(of: "§src", with: prefix + "src")
                .replacingOccurrences(of: "§dst", with: prefix + "dst")
        }
    }

    /// The SQL that narrows a query: every condition here is implied by the filter, never stricter.
    private static func terms(for query: FlowQuery, _ dialect: SQLDialect) -> [Term] {
        let filter = query.filter
        var terms: [Term] = []
        func marks(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ",") }
        func oneOf(_ column: String, _ values: [String]) {
            guard !values.isEmpty else { return }
            terms.append(Term(sql: "\(column) IN (\(marks(values.count)))", arguments: values))
        }
        // Endpoint filters select rows of flow_endpoint (few), then flows by their indexed ids.
        func endpoints(
            kinds: Set<FlowPeer.Kind>,
            namespaces: Set<String>,
            names: [String]
        )
            -> (String, [any SQLArgument])?
        {
            var tests: [String] = []
            var values: [any SQLArgument] = []
            if !kinds.isEmpty {
                tests.append("kind IN (\(marks(kinds.count)))")
                values += kinds.map(\.rawValue)
            }
            if !namespaces.isEmpty {
                tests.append("namespace IN (\(marks(namespaces.count)))")
                values += Array(namespaces)
            }
            if !names.isEmpty {
                var alternatives: [String] = []
                for value in names {
                    if let slash = value.firstIndex(of: "/") {
                        // `namespace/prefix`, or a whole name with a slash for peers without a namespace.
                        alternatives.append("(namespace = ? AND \(dialect.startsWith("name")))")
                        values += [String(value[..<slash]), String(value[value.index(after: slash)...])]
                        alternatives.append("(namespace = '' AND \(dialect.startsWith("name")))")
                        values.append(value)
                    } else {
                        alternatives.append(dialect.startsWith("name"))
                        values.append(value)
                    }
                }
                tests.append("(" + alternatives.joined(separator: " OR ") + ")")
            }
            guard !tests.isEmpty else { return nil }
            return ("SELECT id FROM flow_endpoint WHERE " + tests.joined(separator: " AND "), values)
        }
        if let (select, values) = endpoints(
            kinds: filter.sourceKinds,
            namespaces: filter.sourceNamespaces,
            names: filter.sourceNames
        ) {
            terms.append(Term(sql: "§src IN (\(select))", arguments: values))
        }
        if let (select, values) = endpoints(
            kinds: filter.destinationKinds,
            namespaces: filter.destinationNamespaces,
            names: filter.destinationNames
        ) {
            terms.append(Term(sql: "§dst IN (\(select))", arguments: values))
        }
        let eitherEnd: [(Set<String>, [String])] = [(filter.namespaces, []), ([], filter.names)]
        for (namespaces, names) in eitherEnd {
            guard let (select, values) = endpoints(kinds: [], namespaces: namespaces, names: names) else { continue }
            terms.append(Term(sql: "(§src IN (\(select)) OR §dst IN (\(select)))", arguments: values + values))
        }
        oneOf("action", filter.actions.map(\.rawValue))
        oneOf("reporter", filter.reporters.map(\.rawValue))
        oneOf("reason", Array(filter.reasons))
        oneOf("route", Array(filter.routes))
        oneOf("upper(protocol)", filter.protocols.map { $0.uppercased() })
        if !filter.policies.isEmpty {
            // The trace JSON names each policy as "name":"…"; a filter value is the name, namespace/name
            // or tier.name, so the name is the value or what follows its first slash or one of its dots.
            var alternatives: [String] = []
            var arguments: [any SQLArgument] = []
            for value in filter.policies {
                var candidates = [value]
                if let slash = value.firstIndex(of: "/") {
                    candidates.append(String(value[value.index(after: slash)...]))
                }
                for dot in value.indices where value[dot] == "." {
                    candidates.append(String(value[value.index(after: dot)...]))
                }
                for candidate in candidates {
                    alternatives.append(dialect.contains("text"))
                    arguments.append("\"name\":" + JSONText.quoted(candidate))
                }
            }
            terms.append(
                Term(
                    sql: "flow.policies IN (SELECT id FROM flow_text WHERE " + alternatives.joined(separator: " OR ")
                        + ")",
                    arguments: arguments
                )
            )
        }
        if !filter.ports.isEmpty {
            terms.append(
                Term(sql: "port IN (\(filter.ports.map { String($0) }.joined(separator: ",")))", arguments: [])
            )
        }
        if let since = filter.since {
            terms.append(Term(sql: "end_ms >= ?", arguments: [FlowRow.milliseconds(since, .down)]))
        }
        if let until = filter.until {
            // Implied by start_ms < until for spans the store allows; it bounds the scan of end_ms.
            let bound = FlowRow.milliseconds(until, .up)
            terms.append(
                Term(sql: "start_ms < ? AND end_ms < ?", arguments: [bound, bound + FlowRow.maximumSpanMilliseconds])
            )
        }
        if let after = query.after {
            terms.append(Term(sql: "flow.id > ?", arguments: [after]))
        }
        return terms
    }
}
