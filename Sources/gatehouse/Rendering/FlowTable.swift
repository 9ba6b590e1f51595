import Foundation
import GatehouseCore
import GatehouseStore

/// Flows as a table, in the spirit of `hubble observe` and Whisker: when, from, to, what, the verdict
/// and the policy that made it.
enum FlowTable {
    static func render(_ flows: [StoredFlow], header: Bool) -> String {
        let rows = flows.map { stored -> [String] in
            let flow = stored.flow
            let target = flow.route ?? flow.port.map { "\(flow.protocol)/\($0)" } ?? flow.protocol
            let counters = flow.counters
            var usage = "\(counters.requests)"
            if counters.tokensIn + counters.tokensOut > 0 { usage += " \(counters.tokensIn)+\(counters.tokensOut)tok" }
            if counters.cost > .zero { usage += " \(counters.cost)" }
            // The last hit with the flow's action decided it (the other direction may have passed it on).
            let enforced = flow.policies.enforced
            let deciding =
                (enforced.last { $0.action.rawValue.lowercased() == flow.action.rawValue } ?? enforced.last)
                .map(\.description) ?? "-"
            var verdict = flow.action.rawValue.uppercased()
            if let pending = flow.policies.pending?.last, pending.action.rawValue.lowercased() != flow.action.rawValue {
                verdict += " (staged: \(pending.action.rawValue.lowercased()))"
            }
            return [
                flow.end.ISO8601Format(), "\(flow.source.kind.rawValue):\(flow.source)",
                "\(flow.destination.kind.rawValue):\(flow.destination)", target, verdict, flow.reason ?? "", usage,
                deciding,
            ]
        }
        let table = TableText.render(
            header: ["TIME", "SOURCE", "DESTINATION", "PORT/ROUTE", "VERDICT", "REASON", "COUNT", "POLICY"],
            rows: rows
        )
        guard !header, let newline = table.firstIndex(of: "\n") else { return table }
        return String(table[table.index(after: newline)...])
    }
}
