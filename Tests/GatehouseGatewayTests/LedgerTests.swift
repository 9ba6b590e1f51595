import Foundation
import GRDB
import GatehouseCore
import GatehouseStore
import Logging
import NIOCore
import NIOPosix
import Testing

@testable import GatehouseGateway

/// The ledger against its store: records read back as written, and a locked database neither loses
/// nor double-counts a charge.
@Suite struct LedgerTests {
    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appending(path: "gatehouse-test-\(UUID().uuidString)")
    }

    @Test func auditRecordsReadBackExactlyAsWritten() throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(directory: directory)
        var entry = AuditEntry(
            time: Date(timeIntervalSince1970: 1_795_780_800.25),
            requestID: "id-\"quoted\"\n",
            route: "/v1/chat/completions",
            decision: "allow",
            status: 200
        )
        entry.identity = "ålice"
        entry.identityLabels = ["team": "search", "gatehouse.io/auth": "api-key"]
        entry.authentication = "api-key"
        entry.keyID = "abcd1234"
        entry.client = "127.0.0.1:5000"
        entry.model = "fixture-small"
        entry.upstream = "http://127.0.0.1:1"
        entry.reason = "tab\there \u{1}"
        entry.trace = "default/allow-all: Allow"
        entry.findings = ["email@12+17"]
        entry.tokensIn = 10
        entry.tokensOut = 20
        entry.tokensEstimated = true
        entry.cost = Cost(dollars: "0.000123")
        entry.latencyMilliseconds = 12.5
        entry.timeToFirstTokenMilliseconds = 3.25
        #expect(
            store.apply([
                .record(entry),
                .record(AuditEntry(time: entry.time, requestID: "b", route: "/", decision: "deny", status: 404)),
            ]) == [.done, .done]
        )
        let records = try store.auditRecords(AuditQuery())
        #expect(records.count == 2)
        #expect(records[0].entry == entry)
        #expect(records[1].previousHash == records[0].hash)
        #expect(try store.verifyAudit().intact)
    }

    @Test func aLockedStoreFailsReservationsAndKeepsSettlementsUntilTheyLand() async throws {
        let directory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try Store(directory: directory, busyTimeout: 0.2)
        let budget = BudgetCharge(scope: "team", period: .total, limit: Cost(dollars: "1")!)
        func reservation(_ ticket: String) -> LedgerOperation.Reservation {
            .init(
                ticket: ticket,
                amount: Cost(dollars: "0.5")!,
                budgets: [budget],
                requestID: ticket,
                identity: "alice",
                model: "m",
                at: Date()
            )
        }
        #expect(store.apply([.reserve(reservation("one"))]) == [.done])
        let ledger = SpendLedger(
            store: store,
            instance: try InstanceLock(directory: directory),
            dataDirectory: directory,
            logger: Logger(label: "test")
        )
        let loop = MultiThreadedEventLoopGroup.singleton.next()

        // Another process holds the write lock (as a backup or a second tool might).
        let other = try DatabaseQueue(path: directory.appending(path: Store.fileName).path)
        let locked = DispatchSemaphore(value: 0)
        let unlock = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            try? other.inTransaction(.immediate) { _ in
                locked.signal()
                unlock.wait()
                return .rollback
            }
        }
        locked.wait()
        let refused = try await ledger.submit(.reserve(reservation("two")), on: loop).get()
        guard case .failed = refused else {
            Issue.record("a reservation against a locked store must fail, was \(refused)")
            return
        }
        let settled = try await ledger.submit(.settle(ticket: "one", cost: Cost(dollars: "0.2")!), on: loop).get()
        guard case .failed = settled else {
            Issue.record("expected the settlement to wait for the store, was \(settled)")
            return
        }
        unlock.signal()

        // The settlement lands once the lock is gone: charged once, reservation released.
        var status: BudgetStatus?
        for _ in 0..<50 {
            status = try store.budgets().first
            if status?.reserved == .zero { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(status?.reserved == .zero)
        #expect(status?.spent == Cost(dollars: "0.2"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try store.budgets().first?.spent == Cost(dollars: "0.2"))
        try other.close()
    }
}
