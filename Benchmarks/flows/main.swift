// Flow records at scale, in-process, against a real SQLite store in a temporary directory:
//
// 1. Ingest: RECORDS raw records (a synthetic cluster's connections and gateway requests over ten
//    minutes, about 20,000 distinct keys per 15 s bucket) through `FlowRecorder` into the store;
//    records per second end to end, and the aggregator alone.
// 2. Query: 1,000,000 stored flows, then filtered queries as `gatehouse flows` and the admin API run
//    them (newest 100 that match); median and worst of ROUNDS runs each.
//
// Usage: swift run -c release gatehouse-flow-bench [RECORDS] [ROUNDS]; ROUNDS 0 measures ingest only   (Benchmarks/flows/run.sh)
import Foundation
import GatehouseCore
import GatehouseFlows
import GatehouseStore
import Logging

let records = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 2_000_000 : 2_000_000
let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 7 : 7
let start = Date(timeIntervalSince1970: 1_800_000_000)
let namespaces = (0..<20).map { "ns-\($0)" }
let apps = ["web", "api", "worker", "db", "cache", "vllm", "qdrant", "rag"]
let denyTrace = FlowTrace(enforced: [
    FlowPolicyHit(
        policy: PolicyReference(kind: "GlobalNetworkPolicy", namespace: nil, name: "default-deny", tier: "security"),
        direction: .ingress,
        ruleIndex: nil,
        action: .deny,
        endOfTier: true,
        index: 0
    )
])
let allowTrace = FlowTrace(enforced: [
    FlowPolicyHit(
        policy: PolicyReference(kind: "NetworkPolicy", namespace: "ns-1", name: "allow-web", tier: "default"),
        direction: .ingress,
        ruleIndex: 0,
        action: .allow,
        index: 0
    )
])

/// The `index`-th record at `time`: a pod-to-pod connection, or (one in eight) a gateway request.
func record(_ index: Int, at time: Date) -> FlowRecord {
    let source = index % 1_000
    let destination = (index / 7) % 1_000
    if index % 8 == 0 {
        return FlowRecord(
            start: time,
            source: FlowPeer(kind: .identity, name: "svc-\(source % 50)"),
            sourceLabels: ["team": "team-\(source % 5)"],
            destination: FlowPeer(kind: .model, name: "model-\(destination % 4)"),
            destinationLabels: ["size": destination % 2 == 0 ? "small" : "large"],
            protocol: "HTTP",
            route: "/v1/chat/completions",
            action: source % 23 == 0 ? .deny : .allow,
            reason: source % 23 == 0 ? "rate_limit_exceeded" : nil,
            reporter: .gateway,
            counters: FlowCounters(
                bytesIn: 400,
                bytesOut: 1_200,
                tokensIn: 40,
                tokensOut: 120,
                cost: Cost(picodollars: 90_000)
            )
        )
    }
    let denied = (source + destination) % 17 == 0
    return FlowRecord(
        start: time,
        source: FlowPeer(
            kind: .workload,
            namespace: namespaces[source % 20],
            name: "\(apps[source % 8])-\(source)"
        ),
        sourceLabels: ["app": apps[source % 8], "pod-template-hash": "\(index % 3)"],
        destination: FlowPeer(
            kind: .workload,
            namespace: namespaces[destination % 20],
            name: "\(apps[destination % 8])-\(destination)"
        ),
        destinationLabels: ["app": apps[destination % 8]],
        protocol: "TCP",
        port: [80, 443, 5432, 6333, 8000][destination % 5],
        action: denied ? .deny : .allow,
        reason: denied ? "end-of-tier" : nil,
        reporter: .destination,
        policies: denied ? denyTrace : allowTrace,
        counters: FlowCounters(packetsIn: 10, packetsOut: 8, bytesIn: 1_500, bytesOut: 900)
    )
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let clock = ContinuousClock()
    let elapsed = try clock.measure(body)
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

func temporaryStore() throws -> (Store, URL) {
    let directory = FileManager.default.temporaryDirectory.appending(path: "gatehouse-flow-bench-\(UUID().uuidString)")
    return (try Store(directory: directory), directory)
}

// 1. Ingest through `FlowRecorder`, the part `serve` and imports use: records go into the aggregator
//    from this thread while the recorder's own queue writes closed buckets to the store (the two run
//    side by side, as in the gateway); timed until the last flow is stored. Records are made first.
let base = Date().addingTimeInterval(-900)
let batch = (0..<records).map { index in
    // Ten minutes of traffic that has already happened; about 20,000 distinct keys per bucket.
    record(index % 20_011, at: base.addingTimeInterval(Double(index) * 600 / Double(records)))
}
let (ingestStore, ingestDirectory) = try temporaryStore()
let recorder = FlowRecorder(store: ingestStore, bucket: .seconds(15), logger: Logger(label: "bench"))
let chunk = 10_000
var aggregateSeconds = 0.0
let totalSeconds = seconds {
    for offset in stride(from: 0, to: records, by: chunk) {
        let slice = batch[offset..<min(offset + chunk, records)]
        aggregateSeconds += seconds { recorder.record(contentsOf: slice) }
    }
    recorder.shutdown()
}
let stored = try ingestStore.flowCount()
print(
    "ingest: \(records) records -> \(stored) stored flows; "
        + "aggregator + store \(Int(Double(records) / totalSeconds)) records/s "
        + "(aggregator alone \(Int(Double(records) / aggregateSeconds)) records/s)"
)
try? FileManager.default.removeItem(at: ingestDirectory)

// 2. Query over 1,000,000 stored flows spread over a day (ROUNDS 0 skips it).
guard rounds > 0 else { exit(0) }
let (store, directory) = try temporaryStore()
let million = 1_000_000
for offset in stride(from: 0, to: million, by: 100_000) {
    let rows = (offset..<offset + 100_000).map { index in
        var flow = record(index, at: start.addingTimeInterval(Double(index) * 86_400 / Double(million)))
        flow.end = flow.start.addingTimeInterval(15)
        return flow
    }
    try store.insertFlows(rows)
}
try store.optimizeFlowQueries()
print("query: \(try store.flowCount()) stored flows")
let now = start.addingTimeInterval(86_400)
let queries: [(String, [(String, String)])] = [
    ("newest 100, no filter", []),
    ("--from-namespace ns-7 --verdict deny", [("from-namespace", "ns-7"), ("verdict", "deny")]),
    ("--to-pod ns-3/db", [("to-pod", "ns-3/db")]),
    ("--identity svc-7 --model model-1", [("identity", "svc-7"), ("model", "model-1")]),
    ("--policy security.default-deny --since 2h", [("policy", "security.default-deny"), ("since", "2h")]),
    ("--to-label app=qdrant --port 6333", [("to-label", "app=qdrant"), ("port", "6333")]),
    ("--reason rate_limit_exceeded", [("reason", "rate_limit_exceeded")]),
    ("--since 12h --until 11h", [("since", "12h"), ("until", "11h")]),
    (
        "--namespace ns-19 --verdict deny --to-kind workload",
        [("namespace", "ns-19"), ("verdict", "deny"), ("to-kind", "workload")]
    ),
]
var worstMedian = 0.0
for (name, pairs) in queries {
    let parameters = try FlowParameters(pairs, now: now)
    var samples: [Double] = []
    var found = 0
    for _ in 0..<rounds {
        samples.append(
            try seconds { found = try store.flows(FlowQuery(filter: parameters.query, limit: 100)).count } * 1000
        )
    }
    samples.sort()
    let median = samples[samples.count / 2]
    worstMedian = max(worstMedian, median)
    print(
        String(
            format: "query %-55@ %3d flows  median %7.1f ms  worst %7.1f ms",
            name as NSString,
            found,
            median,
            samples.last!
        )
    )
}
print(String(format: "query: slowest median %.1f ms (target 200 ms)", worstMedian))
try? FileManager.default.removeItem(at: directory)
