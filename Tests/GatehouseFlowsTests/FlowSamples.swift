import Foundation
import GatehouseCore

/// FlowRecord records for the tests: gateway requests and pod-to-pod connections.
enum FlowSamples {
    static let denyTrace = FlowTrace(
        enforced: [
            FlowPolicyHit(
                policy: PolicyReference(
                    kind: "GlobalNetworkPolicy",
                    namespace: nil,
                    name: "quarantine",
                    tier: "security"
                ),
                direction: .ingress,
                ruleIndex: 0,
                action: .deny,
                index: 0
            )
        ]
    )

    static func request(
        identity: String = "alice",
        labels: [String: String] = ["team": "research"],
        model: String = "small",
        at time: Date,
        action: FlowAction = .allow,
        reason: String? = nil,
        tokens: Int64 = 10,
        cost: Cost = Cost(picodollars: 1_000)
    ) -> FlowRecord {
        FlowRecord(
            start: time,
            source: FlowPeer(kind: .identity, name: identity),
            sourceLabels: labels,
            destination: FlowPeer(kind: .model, name: model),
            protocol: "HTTP",
            route: "/v1/chat/completions",
            action: action,
            reason: reason,
            reporter: .gateway,
            counters: FlowCounters(tokensIn: tokens, tokensOut: tokens * 2, cost: cost, durationMicroseconds: 1_500)
        )
    }

    static func connection(
        from source: (String, String),
        to destination: (String, String),
        port: UInt16,
        at time: Date,
        action: FlowAction = .allow,
        labels: [String: String] = ["app": "web"]
    ) -> FlowRecord {
        FlowRecord(
            start: time,
            source: FlowPeer(kind: .workload, namespace: source.0, name: source.1),
            sourceLabels: labels,
            destination: FlowPeer(kind: .workload, namespace: destination.0, name: destination.1),
            destinationLabels: ["app": "db"],
            protocol: "TCP",
            port: port,
            action: action,
            reason: action == .deny ? "rule" : nil,
            reporter: .destination,
            policies: action == .deny ? denyTrace : FlowTrace(),
            counters: FlowCounters(packetsIn: 3, packetsOut: 2, bytesIn: 300, bytesOut: 200)
        )
    }

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appending(path: "gatehouse-flows-\(UUID().uuidString)")
    }
}
