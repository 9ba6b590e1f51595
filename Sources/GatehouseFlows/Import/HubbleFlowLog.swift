import Foundation
import GatehouseCore

/// Reads `hubble observe -o json` lines (a `GetFlowsResponse` with a `flow`, or a bare `Flow`), as
/// cilium/cilium's `api/v1/flow/flow.proto` shapes them in JSON. Only policy verdicts on new
/// connections become records: replies, L7 and socket events, TCP packets other than the opening SYN
/// (when flags are given), and verdicts other than FORWARDED, DROPPED or AUDIT are skipped (nil
/// without an error).
enum HubbleFlowLog {
    static func parse(_ object: [String: Any]) throws(FlowLogError) -> ObservedFlow? {
        let flow = object["flow"] as? [String: Any] ?? object
        guard let verdict = flow["verdict"] as? String else { throw FlowLogError(reason: "no verdict") }
        let action: FlowAction
        switch verdict {
        case "FORWARDED", "AUDIT": action = .allow
        case "DROPPED": action = .deny
        default: return nil
        }
        if (flow["is_reply"] as? Bool) == true || (flow["reply"] as? Bool) == true { return nil }
        // L7 and socket events describe requests inside connections, not connections.
        if let type = flow["Type"] as? String, type != "L3_L4" { return nil }
        // A TCP connection is counted once, at its SYN; later packets' trace events are not new ones.
        if let tcp = (flow["l4"] as? [String: Any])?["TCP"] as? [String: Any],
            let flags = tcp["flags"] as? [String: Any],
            (flags["SYN"] as? Bool) != true || (flags["ACK"] as? Bool) == true
        {
            return nil
        }
        guard let timeText = flow["time"] as? String ?? object["time"] as? String,
            let time = FlowLogDates.date(timeText)
        else { throw FlowLogError(reason: "no time, or not an RFC 3339 time") }
        var protocolName = "TCP"
        var port: UInt16?
        if let l4 = flow["l4"] as? [String: Any] {
            guard let (name, fields) = l4.first, let layer = fields as? [String: Any] else {
                throw FlowLogError(reason: "l4 names no protocol")
            }
            protocolName = name.hasPrefix("ICMP") ? (name == "ICMPv6" ? "ICMPv6" : "ICMP") : name
            if let number = layer["destination_port"] as? Int { port = UInt16(exactly: number) }
        }
        guard let ipProtocol = IPProtocol(name: protocolName) else {
            throw FlowLogError(reason: "unknown protocol \(protocolName)")
        }
        let direction = flow["traffic_direction"] as? String
        var observed = ObservedFlow(
            format: .hubble,
            start: time,
            protocol: ipProtocol,
            reporter: direction == "EGRESS" ? .source : .destination
        )
        observed.port = port
        observed.action = action
        if action == .deny { observed.dropReason = flow["drop_reason_desc"] as? String ?? "POLICY_DENIED" }
        let ip = flow["IP"] as? [String: Any]
        observed.source = try peer(flow["source"], address: ip?["source"] as? String, names: flow["source_names"])
        observed.destination = try peer(
            flow["destination"],
            address: ip?["destination"] as? String,
            names: flow["destination_names"]
        )
        observed.counters = FlowCounters(requests: 1)
        return observed
    }

    /// An endpoint: a pod when it has a namespace and pod name, else the address (`world`, hosts).
    private static func peer(_ value: Any?, address: String?, names: Any?) throws(FlowLogError) -> ObservedFlow.Peer {
        var peer = ObservedFlow.Peer()
        if let address {
            guard let parsed = IPAddress(address) else {
                throw FlowLogError(reason: "\"\(address)\" is not an address")
            }
            peer.address = parsed
        }
        let endpoint = value as? [String: Any] ?? [:]
        for label in endpoint["labels"] as? [String] ?? [] {
            // `k8s:app=web`: the source prefix goes, and so do the labels Cilium adds itself.
            let text = label.split(separator: ":", maxSplits: 1).last.map(String.init) ?? label
            guard label.hasPrefix("k8s:"), let equals = text.firstIndex(of: "=") else { continue }
            let key = String(text[..<equals])
            guard !key.hasPrefix("io.kubernetes.pod.namespace"), !key.hasPrefix("io.cilium.") else { continue }
            peer.labels[key] = String(text[text.index(after: equals)...])
        }
        if let namespace = endpoint["namespace"] as? String, !namespace.isEmpty,
            let pod = endpoint["pod_name"] as? String, !pod.isEmpty
        {
            peer.namespace = namespace
            peer.name = pod
        } else {
            peer.kind = (endpoint["labels"] as? [String] ?? []).contains("reserved:host") ? .host : .network
            if peer.address == nil {
                peer.name = (names as? [String])?.first
                guard peer.name != nil else { throw FlowLogError(reason: "an endpoint with neither pod nor address") }
            }
        }
        return peer
    }
}
