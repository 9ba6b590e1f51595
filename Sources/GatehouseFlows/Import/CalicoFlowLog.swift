import Foundation
import GatehouseCore

/// Reads Calico flow logs as Whisker's backend serves them (`FlowResponse`: `source_labels` joined with
/// " | ") and as Goldmane's API gives them (`Flow` with a `Key`, labels as lists), one JSON object per
/// line. Policy hits keep their kind, tier, name, action and indexes.
enum CalicoFlowLog {
    static func parse(_ object: [String: Any]) throws(FlowLogError) -> ObservedFlow? {
        // Goldmane nests the key (`{"Key": {...}, "start_time": ...}`); Whisker flattens it.
        var fields = object["flow"] as? [String: Any] ?? object
        if let key = fields["Key"] as? [String: Any] ?? fields["key"] as? [String: Any] {
            fields.merge(key) { current, _ in current }
        }
        // Goldmane's Action by name, or by number (Allow 1, Deny 2, Pass 3).
        guard let actionValue = fields["action"] else { throw FlowLogError(reason: "no action") }
        let actionText = "\(actionValue)"
        let action: FlowAction
        switch actionText.lowercased() {
        case "allow", "1": action = .allow
        case "deny", "2": action = .deny
        case "pass", "3": action = .pass
        default: throw FlowLogError(reason: "unknown action \(actionText)")
        }
        guard let start = time(fields["start_time"]) else { throw FlowLogError(reason: "no start_time") }
        let protocolName = fields["protocol"] as? String ?? fields["proto"] as? String ?? "TCP"
        guard let ipProtocol = IPProtocol(name: protocolName) else {
            throw FlowLogError(reason: "unknown protocol \(protocolName)")
        }
        let reporterText = fields["reporter"].map { "\($0)".lowercased() }
        let reporter = reporterText == "src" || reporterText == "1" ? FlowReporter.source : .destination
        var observed = ObservedFlow(format: .calico, start: start, protocol: ipProtocol, reporter: reporter)
        observed.end = time(fields["end_time"]) ?? start
        observed.action = action
        if let port = fields["dest_port"] as? Int {
            guard let valid = UInt16(exactly: port) else {
                throw FlowLogError(reason: "dest_port \(port) is not a port")
            }
            observed.port = valid == 0 ? nil : valid
        }
        observed.source = try peer(fields, "source")
        observed.destination = try peer(fields, "dest")
        let policies = fields["policies"] as? [String: Any] ?? [:]
        observed.policies = FlowTrace(
            enforced: hits(policies["enforced"] ?? policies["enforced_policies"]),
            pending: (policies["pending"] ?? policies["pending_policies"]).map(hits)
        )
        func count(_ name: String) -> Int64 { Int64(fields[name] as? Int ?? 0) }
        observed.counters = FlowCounters(
            requests: max(count("num_connections_started"), 1),
            packetsIn: count("packets_in"),
            packetsOut: count("packets_out"),
            bytesIn: count("bytes_in"),
            bytesOut: count("bytes_out")
        )
        return observed
    }

    /// RFC 3339 text or Unix seconds, between 1970 and 2400 (anything else is not a flow's time).
    private static func time(_ value: Any?) -> Date? {
        var date: Date?
        if let text = value as? String { date = FlowLogDates.date(text) }
        if let seconds = value as? Int { date = Date(timeIntervalSince1970: Double(seconds)) }
        guard let date, (0...13_569_465_600).contains(date.timeIntervalSince1970) else { return nil }
        return date
    }

    private static func peer(_ fields: [String: Any], _ prefix: String) throws(FlowLogError) -> ObservedFlow.Peer {
        var peer = ObservedFlow.Peer()
        guard let name = fields["\(prefix)_name"] as? String, !name.isEmpty else {
            throw FlowLogError(reason: "no \(prefix)_name")
        }
        let namespace = fields["\(prefix)_namespace"] as? String
        peer.namespace = namespace.flatMap { $0.isEmpty || $0 == "-" ? nil : $0 }
        // Goldmane's EndpointType, by name or by number.
        let type = fields["\(prefix)_type"].map { "\($0)" }
        switch type {
        case "HostEndpoint", "2": peer.kind = .host
        case "NetworkSet", "3": peer.kind = .networkSet
        case "Network", "4": peer.kind = .network
        default: peer.kind = name == "pub" || name == "pvt" ? .network : .workload
        }
        if peer.kind == .workload, name.hasSuffix("*") {
            peer.namePrefix = String(name.dropLast())
        } else {
            peer.name = name
        }
        let labels: [String]
        if let joined = fields["\(prefix)_labels"] as? String {
            labels = joined.components(separatedBy: " | ")
        } else {
            labels = fields["\(prefix)_labels"] as? [String] ?? []
        }
        for label in labels {
            guard let equals = label.firstIndex(of: "=") else { continue }
            peer.labels[String(label[..<equals])] = String(label[label.index(after: equals)...])
        }
        return peer
    }

    private static func hits(_ value: Any?) -> [FlowPolicyHit] {
        (value as? [[String: Any]] ?? []).enumerated().compactMap { position, hit in
            guard let name = hit["name"] as? String, let actionText = hit["action"] as? String,
                let action = RuleAction(
                    rawValue: actionText.prefix(1).uppercased() + actionText.dropFirst().lowercased()
                )
            else { return nil }
            let kind = hit["kind"] as? String ?? "CalicoNetworkPolicy"
            let endOfTier = kind == "EndOfTier"
            let policyName = endOfTier ? (hit["trigger"] as? [String: Any])?["name"] as? String ?? name : name
            let namespace = (hit["namespace"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            return FlowPolicyHit(
                policy: PolicyReference(
                    kind: kind,
                    namespace: namespace,
                    name: policyName,
                    tier: hit["tier"] as? String ?? "default"
                ),
                direction: nil,
                ruleIndex: endOfTier ? nil : hit["rule_index"] as? Int,
                action: action,
                endOfTier: endOfTier,
                index: hit["policy_index"] as? Int ?? position
            )
        }
    }
}
