import Foundation
import GatehouseCore

/// How a flow maps onto the flow tables. Endpoints (kind, namespace, name) are rows of
/// `flow_endpoint`, and labels (sorted JSON objects) and policy traces (JSON) rows of `flow_text`, each
/// kept once: a `flow` row holds their ids, so its indexes are small integers and its rows are short.
enum FlowRow {
    static let columnCount = 23
    /// Rows per multi-row INSERT: fewer statements per batch, well under SQLite's parameter limit.
    static let rowsPerInsert = 32

    /// What a query reads, in the order `flow(from:traces:)` takes it: the texts of labels and traces
    /// joined in from `flow_text`, the flow table first.
    static func selection(_ dialect: SQLDialect) -> String {
        let join = dialect.orderedJoin
        return """
            SELECT flow.id, start_ms, end_ms, se.kind, se.namespace, se.name, sl.text, de.kind, de.namespace,
            de.name, dl.text, protocol, port, route, action, reason, reporter, pt.text, requests, packets_in,
            packets_out, bytes_in, bytes_out, tokens_in, tokens_out, cost_pusd, duration_us, max_duration_us
            FROM flow \(join) flow_endpoint AS se ON se.id = flow.src
            \(join) flow_endpoint AS de ON de.id = flow.dst
            \(join) flow_text AS sl ON sl.id = flow.src_labels
            \(join) flow_text AS dl ON dl.id = flow.dst_labels \(join) flow_text AS pt ON pt.id = flow.policies
            """
    }

    static let columns = """
        start_ms, end_ms, src, src_labels, dst, dst_labels, protocol, port, route, action, reason, reporter,
        policies, requests, packets_in, packets_out, bytes_in, bytes_out, tokens_in, tokens_out, cost_pusd,
        duration_us, max_duration_us
        """

    /// The longest time a stored flow may span: longer ones are kept as their last hour (the
    /// aggregator's buckets are far shorter), so a time range maps onto a bounded range of `end_ms`.
    static let maximumSpanMilliseconds: Int64 = 3_600_000

    /// Milliseconds since 1970, rounded as `rule` says and clamped to what any index can hold (a date
    /// beyond a few hundred million years cannot trap the conversion).
    static func milliseconds(_ date: Date, _ rule: FloatingPointRoundingRule = .toNearestOrAwayFromZero) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded(rule)
        guard value.isFinite else { return value > 0 ? Int64.max / 2 : Int64.min / 2 }
        return Int64(min(max(value, -9e15), 9e15))
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The row's values in `columns` order, with endpoints, labels and policy trace as ids.
    static func arguments(
        _ flow: FlowRecord,
        source: Int64,
        sourceLabels: Int64,
        destination: Int64,
        destinationLabels: Int64,
        policies: Int64
    ) -> [any SQLArgument] {
        let counters = flow.counters
        let end = milliseconds(flow.end)
        return [
            max(milliseconds(flow.start), end - maximumSpanMilliseconds), end, source, sourceLabels, destination,
            destinationLabels, flow.protocol,
            flow.port.map { Int($0) }, flow.route, flow.action.rawValue, flow.reason, flow.reporter.rawValue, policies,
            counters.requests, counters.packetsIn, counters.packetsOut, counters.bytesIn, counters.bytesOut,
            counters.tokensIn, counters.tokensOut, counters.cost.picodollars, counters.durationMicroseconds,
            counters.maximumDurationMicroseconds,
        ]
    }

    /// Decodes the policy trace of many rows, each distinct text once.
    final class TraceCache {
        private var traces: [String: FlowTrace] = ["{}": FlowTrace()]
        private let decoder = JSONDecoder()

        func trace(_ text: String) throws -> FlowTrace {
            if let known = traces[text] { return known }
            let trace = try decoder.decode(FlowTrace.self, from: Data(text.utf8))
            if traces.count < 10_000 { traces[text] = trace }
            return trace
        }
    }

    /// The flow in a row read with `selection` (columns by position).
    static func flow(from row: SQLRow, traces: TraceCache) throws -> StoredFlow {
        func labels(_ index: Int) throws -> [String: String] {
            let text: String = try row.value(index)
            guard let labels = FlowLabelsText.decode(text) else {
                throw StoreError(.invalid, "stored flow \(try row[0] as Int64) has unreadable labels")
            }
            return labels
        }
        func kind(_ index: Int) throws -> FlowPeer.Kind {
            let text: String = try row.value(index)
            guard let kind = FlowPeer.Kind(rawValue: text) else {
                throw StoreError(.invalid, "stored flow has an unknown endpoint kind \(text)")
            }
            return kind
        }
        let actionText: String = try row[14]
        let reporterText: String = try row[16]
        guard let action = FlowAction(rawValue: actionText), let reporter = FlowReporter(rawValue: reporterText) else {
            throw StoreError(.invalid, "stored flow has an unknown action \(actionText) or reporter \(reporterText)")
        }
        var counters = FlowCounters(
            requests: try row[18],
            packetsIn: try row[19],
            packetsOut: try row[20],
            bytesIn: try row[21],
            bytesOut: try row[22],
            tokensIn: try row[23],
            tokensOut: try row[24],
            cost: Cost(picodollars: try row[25]),
            durationMicroseconds: try row[26]
        )
        counters.maximumDurationMicroseconds = try row[27]
        let port: Int? = try row[12]
        let flow = FlowRecord(
            start: date(try row[1]),
            end: date(try row[2]),
            source: FlowPeer(kind: try kind(3), namespace: try row[4], name: try row[5]),
            sourceLabels: try labels(6),
            destination: FlowPeer(kind: try kind(7), namespace: try row[8], name: try row[9]),
            destinationLabels: try labels(10),
            protocol: try row[11],
            port: port.flatMap(UInt16.init(exactly:)),
            route: try row[13],
            action: action,
            reason: try row[15],
            reporter: reporter,
            policies: try traces.trace(try row[17]),
            counters: counters
        )
        return StoredFlow(id: try row[0], flow: flow)
    }
}
