// The audit trail in-process, against a real SQLite store in a temporary directory: what one record
// costs when it is committed to the store in transactions of different sizes, and when it is made
// durable in the gateway's journal (one write per record, as a batch of one) and moved into the store
// 2,048 to a transaction, as `serve` does under load.
//
// Usage: swift run -c release gatehouse-ledger-bench [RECORDS] [ROUNDS]
import Foundation
import GatehouseCore
import GatehouseStore

let records = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 20_000 : 20_000
let rounds = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 5 : 5
let directory = FileManager.default.temporaryDirectory.appending(path: "gatehouse-ledger-bench-\(UUID())")
defer { try? FileManager.default.removeItem(at: directory) }
let store = try Store(directory: directory)

func entry(_ index: Int) -> AuditEntry {
    var entry = AuditEntry(
        time: Date(),
        requestID: "req-\(index)-0123456789abcdef",
        route: "/v1/chat/completions",
        decision: .allow,
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

/// Appends `records` audit records, `perTransaction` to a transaction; µs per record.
func run(perTransaction: Int) -> Double {
    let started = ContinuousClock.now
    var index = 0
    while index < records {
        let batch = (index..<min(index + perTransaction, records)).map { LedgerOperation.record(entry($0)) }
        _ = store.apply(batch)
        index += perTransaction
    }
    return Double((ContinuousClock.now - started) / .microseconds(1)) / Double(records)
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

print("µs per audit record (median of \(rounds) rounds of \(records)), by records per transaction")
print("| records per transaction | µs per record |")
print("|---|---|")
for size in [1, 2, 4, 8, 16, 64, 256] {
    let times = (0..<rounds).map { _ in run(perTransaction: size) }
    print(String(format: "| %d | %.1f |", size, median(times)))
}

/// Journals `records` records one write each, moving them into the store 2,048 to a transaction.
func runJournaled() throws -> Double {
    let owner = UUID().uuidString.lowercased()
    let journal = try LedgerJournal(directory: directory, owner: owner, stream: 0)
    let started = ContinuousClock.now
    var unmoved: [LedgerOperation] = []
    for index in 0..<records {
        unmoved += try journal.append([.record(entry(index))])
        if unmoved.count == 2048 || index == records - 1 {
            _ = store.apply(unmoved + [.journalMoved(journal: journal.name, generation: journal.generation)])
            try journal.startNext()
            journal.removeFiles(from: journal.generation - 1, through: journal.generation - 1)
            unmoved = []
        }
    }
    journal.removeFiles(from: journal.generation, through: journal.generation)
    return Double((ContinuousClock.now - started) / .microseconds(1)) / Double(records)
}

let journaled = try (0..<rounds).map { _ in try runJournaled() }
print(String(format: "| journaled, moved 2,048 to a transaction | %.1f |", median(journaled)))
