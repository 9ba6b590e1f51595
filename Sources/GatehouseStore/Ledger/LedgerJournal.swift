import Foundation
import GatehouseCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A gateway's append-only file of ledger operations (charges, releases, audit records), written one
/// batch at a time: durable against the process dying as soon as `append` returns, like a WAL commit with
/// `synchronous=NORMAL`, with no transaction and, on Linux, no system call (`JournalFile`).
/// The gateway moves what it wrote into the store in large transactions (`Store.apply` with
/// `.journalMoved`) and starts a new file; a gateway that dies leaves files the next start replays
/// (`Store.chargeAbandonedHolds`). A file the store has is emptied and kept for the next one but one.
///
/// A gateway writes several journals (one per event loop, so loops never wait on each other), each named
/// `<owner>.<stream>`. Files are `ledger/<name>.<generation>.journal`; each line is one operation: `C` (charge) or `L`
/// (release), window start, picodollars and the scope as a JSON string, tab-separated, or `R` and an
/// audit entry's stored JSON. A line cut short by a crash has no newline and is ignored, and so is
/// everything from the first NUL byte (the unwritten rest of a sized file; no line has one). A journal
/// closed in order cuts its file to what it holds.
///
/// Unchecked: one thread at a time uses an instance (the gateway's journals are behind locks).
public final class LedgerJournal: @unchecked Sendable {
    /// `<owner>.<stream>`: the journal's files and its mark in the store go by it.
    public let name: String
    private let folder: URL
    private var current: JournalFile
    /// Files of earlier generations the store may not have yet.
    private var retired: [JournalFile] = []
    /// An emptied file (under the name of a generation the store has) for the next generation.
    private var spare: JournalFile?

    public var generation: Int64 { current.generation }

    /// Opens the first file of the owner's journal `stream` in the data directory `directory`.
    public init(directory: URL, owner: String, stream: Int) throws(StoreError) {
        name = "\(owner).\(stream)"
        folder = Self.folder(in: directory)
        try? FileManager.default.createDirectory(
            at: folder,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        current = try JournalFile(folder: folder, name: name, generation: 1)
    }

    deinit {
        current.trim()
        spare?.remove()
    }

    /// Appends `operations` (holds are not journaled: they need the store's answer) in one batch, and
    /// returns them with each record's stored JSON, so the store need not encode it again.
    @discardableResult
    public func append(_ operations: [LedgerOperation]) throws(StoreError) -> [LedgerOperation] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(operations.count * 700)
        let encoded = operations.map { operation -> LedgerOperation in
            guard case .record(let entry, let text) = operation else {
                Self.encode(operation, to: &bytes)
                return operation
            }
            let json = text ?? AuditEntryJSON.encode(entry)
            bytes.append(contentsOf: "R\t".utf8)
            bytes.append(contentsOf: json.utf8)
            bytes.append(UInt8(ascii: "\n"))
            return .record(entry, text: json)
        }
        guard bytes.withUnsafeBytes({ current.write($0) }) else {
            throw StoreError(
                .unavailable,
                "the ledger journal could not be written: \(String(cString: strerror(errno)))"
            )
        }
        return encoded
    }

    /// Starts the next file (the spare, renamed, when there is one); the current one stays until the
    /// store has its operations (`removeFiles`). When no file can be made, the current one goes on.
    public func startNext() throws(StoreError) {
        let next = generation + 1
        let file: JournalFile
        let spare = self.spare
        self.spare = nil
        if let spare, spare.renumber(to: next) {
            file = spare
        } else {
            spare?.remove()
            file = try JournalFile(folder: folder, name: name, generation: next)
        }
        retired.append(current)
        // Only the newest stay open (one of them becomes the spare): while the store is out of reach a
        // move is tried, and a file started, several times a second. Older ones wait on disk, closed.
        if retired.count > 2 { retired.removeFirst(retired.count - 2) }
        current = file
    }

    /// Done with the files of generations `first` through `last` (the store has their operations): one
    /// is emptied and kept as the spare, the rest removed.
    public func removeFiles(from first: Int64, through last: Int64) {
        guard first <= last else { return }
        let done = first...last
        let finished = retired.filter { done.contains($0.generation) }
        for file in finished {
            if spare == nil, file.clear() {
                spare = file
            } else {
                file.remove()
            }
        }
        retired.removeAll { done.contains($0.generation) }
        // Generations with no file open here: from before a restart, or the current one at shutdown.
        let handled = Set(finished.map(\.generation))
        for generation in done where !handled.contains(generation) {
            unlink(JournalFile.path(folder, name, generation))
        }
    }

    // MARK: Files left behind

    static func folder(in directory: URL) -> URL { directory.appending(path: "ledger") }

    static func file(_ folder: URL, _ name: String, _ generation: Int64) -> URL {
        folder.appending(path: "\(name).\(generation).journal")
    }

    /// The gateway a journal named `name` belongs to.
    static func owner(of name: String) -> String { String(name.prefix { $0 != "." }) }

    /// The journal files in `directory`, by journal name: generations, oldest first.
    static func files(in directory: URL) -> [String: [Int64]] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder(in: directory).path)) ?? []
        var files: [String: [Int64]] = [:]
        for name in names where name.hasSuffix(".journal") {
            let parts = name.dropLast(".journal".count).split(separator: ".")
            guard parts.count == 3, let generation = Int64(parts[2]) else { continue }
            files["\(parts[0]).\(parts[1])", default: []].append(generation)
        }
        return files.mapValues { $0.sorted() }
    }

    /// The operations in one file of journal `name`, with the owner filled in; a final line without a
    /// newline is dropped.
    static func operations(in directory: URL, name: String, generation: Int64) throws -> [LedgerOperation] {
        let owner = owner(of: name)
        var data = try Data(contentsOf: file(folder(in: directory), name, generation))
        if let end = data.firstIndex(of: 0) { data = data[..<end] }
        let decoder = AuditChain.makeDecoder()
        var operations: [LedgerOperation] = []
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        lines.removeLast()  // after the last newline: empty, or a line the crash cut short
        for (index, line) in lines.enumerated() {
            guard let operation = decode(Array(line), owner: owner, decoder: decoder) else {
                throw StoreError(
                    .invalid,
                    "ledger journal \(owner).\(generation): line \(index + 1) is not an operation"
                )
            }
            operations.append(operation)
        }
        return operations
    }

    // MARK: Lines

    private static func encode(_ operation: LedgerOperation, to bytes: inout [UInt8]) {
        switch operation {
        case .charge(let key, let cost): encode(kind: "C", key, cost, to: &bytes)
        case .release(let key, let amount): encode(kind: "L", key, amount, to: &bytes)
        case .record, .hold, .inFlight, .journalMoved: break
        }
    }

    private static func encode(kind: String, _ key: LedgerOperation.HoldKey, _ cost: Cost, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: "\(kind)\t\(key.windowStart)\t\(cost.picodollars)\t".utf8)
        JSONText.appendQuoted(key.scope.utf8, to: &bytes)
        bytes.append(UInt8(ascii: "\n"))
    }

    private static func decode(_ line: [UInt8], owner: String, decoder: JSONDecoder) -> LedgerOperation? {
        guard line.count > 2, line[1] == UInt8(ascii: "\t") else { return nil }
        let rest = Data(line[2...])
        switch line[0] {
        case UInt8(ascii: "R"):
            return (try? decoder.decode(AuditEntry.self, from: rest)).map {
                .record($0, text: String(decoding: rest, as: UTF8.self))
            }
        case UInt8(ascii: "C"), UInt8(ascii: "L"):
            let fields = rest.split(separator: UInt8(ascii: "\t"), maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3,
                let start = Int64(String(decoding: fields[0], as: UTF8.self)),
                let picodollars = Int64(String(decoding: fields[1], as: UTF8.self)), picodollars >= 0,
                let scope = try? JSONDecoder().decode(String.self, from: Data(fields[2]))
            else { return nil }
            let key = LedgerOperation.HoldKey(owner: owner, scope: scope, windowStart: start)
            let amount = Cost(picodollars: picodollars)
            return line[0] == UInt8(ascii: "C") ? .charge(key, cost: amount) : .release(key, amount: amount)
        default: return nil
        }
    }
}
