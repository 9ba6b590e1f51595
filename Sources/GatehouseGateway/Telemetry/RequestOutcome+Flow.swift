import Foundation
import GatehouseCore
import GatehouseStore

extension RequestOutcome {
    /// The request as a flow record: the caller (or, when none was identified, the client's address)
    /// to the model, with the access trace, bytes, tokens, cost and duration.
    var flow: FlowRecord {
        let source: FlowPeer
        if let identity = audit.identity {
            source = FlowPeer(kind: .identity, name: identity)
        } else {
            source = FlowPeer(kind: .network, name: Self.host(of: audit.client) ?? "unknown")
        }
        let duration = audit.latencyMilliseconds.map { Int64(($0 * 1000).rounded()) } ?? 0
        // Placed in time by when it finished, as flow reporters do: a long stream still lands in a bucket
        // that is open, never in one already written.
        return FlowRecord(
            start: audit.time.addingTimeInterval((audit.latencyMilliseconds ?? 0) / 1000),
            source: source,
            sourceLabels: audit.identityLabels ?? [:],
            destination: FlowPeer(kind: .model, name: audit.model ?? "-"),
            destinationLabels: modelLabels?.values ?? [:],
            protocol: "HTTP",
            route: audit.route,
            action: audit.decision == .allow ? .allow : .deny,
            reason: audit.reason?.code,
            reporter: .gateway,
            policies: access.map(FlowTrace.init) ?? FlowTrace(),
            counters: FlowCounters(
                bytesIn: Int64(bytesIn),
                bytesOut: Int64(bytesOut),
                tokensIn: Int64(audit.tokensIn ?? 0),
                tokensOut: Int64(audit.tokensOut ?? 0),
                cost: audit.cost ?? .zero,
                durationMicroseconds: duration
            )
        )
    }

    /// `203.0.113.9` from `203.0.113.9:51234` or `[2001:db8::1]:51234`.
    private static func host(of address: String?) -> String? {
        guard let address else { return nil }
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            return String(address[address.index(after: address.startIndex)..<close])
        }
        guard let colon = address.lastIndex(of: ":") else { return address }
        return String(address[..<colon])
    }
}
