import Foundation
import GatehouseCore
import Testing

@testable import GatehouseStore

/// The journal's files: what a crash leaves is read back line for line, a file the store has is
/// used again without its old lines coming back, and a journal closed in order leaves just its lines.
@Suite struct LedgerJournalTests {
    static let key = LedgerOperation.HoldKey(owner: "gw", scope: "team", windowStart: 0)

    static func charge(_ dollars: String) -> LedgerOperation { .charge(key, cost: Cost(dollars: dollars)!) }

    static func record(_ id: String) -> LedgerOperation {
        .record(AuditEntry(time: Date(), requestID: id, route: "/v1/chat/completions", decision: .allow, status: 200))
    }

    static func requestIDs(_ operations: [LedgerOperation]) -> [String] {
        operations.map { operation in
            switch operation {
            case .record(let entry, _): entry.requestID
            case .charge: "charge"
            default: "other"
            }
        }
    }

    @Test func whatACrashLeavesIsReadBackWholeLinesOnly() throws {
        let directory = LedgerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = try LedgerJournal(directory: directory, owner: "gw", stream: 1)
        try journal.append([Self.charge("0.1"), Self.record("first")])
        try journal.append([Self.record("second")])
        // The process dies here (the journal is never closed) in the middle of its next line.
        let file = LedgerJournal.file(LedgerJournal.folder(in: directory), journal.name, 1)
        let data = try Data(contentsOf: file)
        let end = data.firstIndex(of: 0) ?? data.endIndex
        #expect(data[..<end].last == UInt8(ascii: "\n"))
        let handle = try FileHandle(forWritingTo: file)
        try handle.seek(toOffset: UInt64(end))
        try handle.write(contentsOf: Data("R\t{\"requestID\":\"torn".utf8))
        try handle.close()
        let operations = try LedgerJournal.operations(in: directory, name: journal.name, generation: 1)
        #expect(Self.requestIDs(operations) == ["charge", "first", "second"])
    }

    @Test func aFileTheStoreHasIsUsedAgainWithoutItsOldLines() throws {
        let directory = LedgerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = LedgerJournal.folder(in: directory)
        var journal: LedgerJournal? = try LedgerJournal(directory: directory, owner: "gw", stream: 1)
        try journal?.append([Self.record("one"), Self.record("two"), Self.charge("0.2")])
        try journal?.startNext()
        try journal?.append([Self.record("three")])
        // The store has generation 1: its file is emptied and kept for generation 3.
        journal?.removeFiles(from: 1, through: 1)
        try journal?.startNext()
        try journal?.append([Self.record("four")])
        #expect(try LedgerJournal.operations(in: directory, name: "gw.1", generation: 2).count == 1)
        #expect(Self.requestIDs(try LedgerJournal.operations(in: directory, name: "gw.1", generation: 3)) == ["four"])
        #expect(LedgerJournal.files(in: directory)["gw.1"] == [2, 3])
        journal?.removeFiles(from: 2, through: 2)
        #expect(LedgerJournal.files(in: directory)["gw.1"]?.contains(3) == true)
        // Closed in order: the current file is cut to its lines; the emptied spare goes.
        journal = nil
        #expect(LedgerJournal.files(in: directory)["gw.1"] == [3])
        let data = try Data(contentsOf: LedgerJournal.file(folder, "gw.1", 3))
        #expect(!data.contains(0))
        #expect(data.last == UInt8(ascii: "\n"))
        #expect(Self.requestIDs(try LedgerJournal.operations(in: directory, name: "gw.1", generation: 3)) == ["four"])
    }

    /// While the store is out of reach every move starts a file: the files wait on disk, not open.
    @Test func filesTheStoreHasNotTakenYetStayOnDiskNotOpen() throws {
        let directory = LedgerTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = try LedgerJournal(directory: directory, owner: "gw", stream: 1)
        // The journal's files this process has mapped (Linux; elsewhere files are not mapped).
        let mapped = {
            let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
            return maps.split(separator: "\n").count { $0.contains(directory.lastPathComponent) }
        }
        for index in 1...40 {
            try journal.append([Self.record("r\(index)")])
            try journal.startNext()
        }
        #expect(mapped() <= 3)
        #if os(Linux)
        #expect(mapped() >= 1)
        #endif
        #expect(LedgerJournal.files(in: directory)["gw.1"]?.count == 41)
        // The store has them all now: one is kept, emptied, for the next file; the others go.
        journal.removeFiles(from: 1, through: 40)
        #expect(LedgerJournal.files(in: directory)["gw.1"]?.count == 2)
        try journal.append([Self.record("last")])
        #expect(Self.requestIDs(try LedgerJournal.operations(in: directory, name: "gw.1", generation: 41)) == ["last"])
        try journal.startNext()
        #expect(LedgerJournal.files(in: directory)["gw.1"] == [41, 42])
    }
}
