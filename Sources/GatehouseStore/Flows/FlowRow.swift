import Foundation
import GRDB
import GatehouseCore

/// How a flow maps onto a row of the `flow` table: the fields queries filter on as columns, labels as
/// sorted JSON objects, the policy trace as JSON (encoded once per distinct trace in a batch).
enum FlowRow {
    static let columns = """
        start_ms, end_ms, src_kind, src_namespace, src_name, src_labels, dst_kind, dst_namespace, dst_name,
        dst_labels, protocol, port, route, action, reason, reporter, policies, requests, packets_in, packets_out,
        bytes_in, bytes_out, tokens_in, tokens_out, cost_pusd, duration_us, max_duration_us
        """

    static func createTable(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE flow (
                    id INTEGER PRIMARY KEY,
                    start_ms INTEGER NOT NULL,
                    end_ms INTEGER NOT NULL,
                    src_kind TEXT NOT NULL,
                    src_namespace TEXT,
                    src_name TEXT NOT NULL,
                    src_labels TEXT NOT NULL,
                    dst_kind TEXT NOT NULL,
                    dst_namespace TEXT,
                    dst_name TEXT NOT NULL,
                    dst_labels TEXT NOT NULL,
                    protocol TEXT NOT NULL,
                    port INTEGER,
                    route TEXT,
                    action TEXT NOT NULL,
                    reason TEXT,
                    reporter TEXT NOT NULL,
                    policies TEXT NOT NULL,
                    requests INTEGER NOT NULL,
                    packets_in INTEGER NOT NULL,
                    packets_out INTEGER NOT NULL,
                    bytes_in INTEGER NOT NULL,
                    bytes_out INTEGER NOT NULL,
                    tokens_in INTEGER NOT NULL,
                    tokens_out INTEGER NOT NULL,
                    cost_pusd INTEGER NOT NULL,
                    duration_us INTEGER NOT NULL,
                    max_duration_us INTEGER NOT NULL
                );
                CREATE INDEX flow_end ON flow (end_ms);
                CREATE INDEX flow_src ON flow (src_namespace, src_name);
                CREATE INDEX flow_dst ON flow (dst_namespace, dst_name);
                """
        )
    }

    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// The row's values in `columns` order.
    static func arguments(_ flow: FlowRecord, policies: String) -> StatementArguments {
        let counters = flow.counters
        return [
            milliseconds(flow.start), milliseconds(flow.end), flow.source.kind.rawValue, flow.source.namespace,
            flow.source.name, labelsJSON(flow.sourceLabels), flow.destination.kind.rawValue,
            flow.destination.namespace, flow.destination.name, labelsJSON(flow.destinationLabels), flow.protocol,
            flow.port.map { Int($0) }, flow.route, flow.action.rawValue, flow.reason, flow.reporter.rawValue, policies,
            counters.requests, counters.packetsIn, counters.packetsOut, counters.bytesIn, counters.bytesOut,
            counters.tokensIn, counters.tokensOut, counters.cost.picodollars, counters.durationMicroseconds,
            counters.maximumDurationMicroseconds,
        ]
    }

    static func labelsJSON(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "{}" }
        var output: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in labels.keys.sorted().enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            JSONText.appendQuoted(key.utf8, to: &output)
            output.append(UInt8(ascii: ":"))
            JSONText.appendQuoted((labels[key] ?? "").utf8, to: &output)
        }
        output.append(UInt8(ascii: "}"))
        return String(decoding: output, as: UTF8.self)
    }

    /// The flow in a row read with `SELECT id, <columns>`.
    static func flow(from row: Row, decoder: JSONDecoder) throws -> StoredFlow {
        func labels(_ column: String) throws -> [String: String] {
            let text: String = row[column]
            return text == "{}" ? [:] : try decoder.decode([String: String].self, from: Data(text.utf8))
        }
        func kind(_ column: String) throws -> FlowEndpoint.Kind {
            let text: String = row[column]
            guard let kind = FlowEndpoint.Kind(rawValue: text) else {
                throw StoreError(.invalid, "stored flow has an unknown \(column) \(text)")
            }
            return kind
        }
        let policies: String = row["policies"]
        let actionText: String = row["action"]
        let reporterText: String = row["reporter"]
        guard let action = FlowAction(rawValue: actionText), let reporter = FlowReporter(rawValue: reporterText) else {
            throw StoreError(.invalid, "stored flow has an unknown action \(actionText) or reporter \(reporterText)")
        }
        var counters = FlowCounters(
            requests: row["requests"],
            packetsIn: row["packets_in"],
            packetsOut: row["packets_out"],
            bytesIn: row["bytes_in"],
            bytesOut: row["bytes_out"],
            tokensIn: row["tokens_in"],
            tokensOut: row["tokens_out"],
            cost: Cost(picodollars: row["cost_pusd"]),
            durationMicroseconds: row["duration_us"]
        )
        counters.maximumDurationMicroseconds = row["max_duration_us"]
        let port: Int? = row["port"]
        let flow = FlowRecord(
            start: date(row["start_ms"]),
            end: date(row["end_ms"]),
            source: FlowEndpoint(kind: try kind("src_kind"), namespace: row["src_namespace"], name: row["src_name"]),
            sourceLabels: try labels("src_labels"),
            destination: FlowEndpoint(
                kind: try kind("dst_kind"),
                namespace: row["dst_namespace"],
                name: row["dst_name"]
            ),
            destinationLabels: try labels("dst_labels"),
            protocol: row["protocol"],
            port: port.flatMap(UInt16.init(exactly:)),
            route: row["route"],
            action: action,
            reason: row["reason"],
            reporter: reporter,
            policies: policies == "{}" ? FlowTrace() : try decoder.decode(FlowTrace.self, from: Data(policies.utf8)),
            counters: counters
        )
        return StoredFlow(id: row["id"], flow: flow)
    }
}
