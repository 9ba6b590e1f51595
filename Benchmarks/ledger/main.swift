// The spend ledger and audit trail in-process, against a real SQLite store in a temporary directory:
// what one request's reservation, settlement and audit record cost when the ledger applies them in
// transactions of different sizes (the gateway's group commit makes a transaction of whatever
// arrived while the last one committed).
//
// Usage: swift run -c release gatehouse-ledger-bench [REQUESTS] [ROUNDS]
import Foundation
import GatehouseCore
import GatehouseStore

let requests = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20_000 : 20_000
let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 5 : 5
let directory = FileManager.default.temporaryDirectory.appending(path: "gatehouse-ledger-bench-\(UUID())")
defer { try? FileManager.default.removeItem(at: directory) }
let store = try Store(directory: directory)

func entry(_ index: Int) -> AuditEntry {
    var entry = AuditEntry(
        time: Date(),
        requestID: "req-\(index)-0123456789abcdef",
        route: "/v1/chat/completions",
        decision: "allow",
        status: 200
    )
    entry.identity = "bench"
    entry.identityLabels = ["team": "bench", "env": "prod"]
    entry.authentication = "api-key"
    entry.keyID = "gh_0123456789ab"
    entry.client = "127.0.0.1:51234"
    entry.model = "fixture-small"
    entry.upstream = "http://127.0.0.1:8000"
    entry.trace = "access/bench-small#0:Allow"
    entry.tokensIn = 12
    entry.tokensOut = 8
    entry.tokensEstimated = false
    entry.cost = Cost(picodollars: 6_600_000)
    entry.latencyMilliseconds = 1.234
    entry.timeToFirstTokenMilliseconds = 1.1
    return entry
}

/// Appends `requests` audit records, `perTransaction` to a transaction; µs per record.
func run(perTransaction: Int) -> Double {
    let started = ContinuousClock.now
    var index = 0
    while index < requests {
        let batch = (index..<min(index + perTransaction, requests)).map { LedgerOperation.record(entry($0)) }
        _ = store.apply(batch)
        index += perTransaction
    }
    return Double((ContinuousClock.now - started) / .microseconds(1)) / Double(requests)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

print("µs per audit record (median of \(rounds) rounds of \(requests)), by records per transaction")
print("| records per transaction | µs per record |")
print("|---|---|")
for size in (ProcessInfo.processInfo.environment["SIZES"] ?? "1,2,4,8,16,64,256").split(separator: ",").compactMap({
    Int($0)
}) {
    let times = (0..<rounds).map { _ in run(perTransaction: size) }
    print(String(format: "| %d | %.1f |", size, median(times)))
}
