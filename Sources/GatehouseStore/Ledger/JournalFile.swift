import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One file of a `LedgerJournal`, `ledger/<name>.<generation>.journal`. On Linux the file is sized ahead (a
/// sparse 8 MiB) and mapped, its pages made writable 64 KiB at a time, and lines are copied in with the
/// batch's final newline stored last: what the page cache holds when the process dies is what the file
/// has, with no system call per batch. Past the mapped size, or where mapping is not available, lines
/// are written with `pwrite`. A file the store has taken is zeroed and used again for a later
/// generation, so its pages stay in memory and writable instead of being freed and made anew each time.
///
/// Unchecked: its journal's user (one thread at a time) is its only user.
final class JournalFile: @unchecked Sendable {
    private(set) var generation: Int64
    private var length = 0
    private let folder: URL
    private let name: String
    private let descriptor: Int32
    private var mapping: UnsafeMutableRawPointer?
    private var mapped = 0
    private var writable = 0

    static let mappedSize = 8 << 20
    static let writableStep = 64 << 10

    /// Opens (creating it if need be) the file of generation `generation` of journal `name` in `folder`;
    /// a file that is there already is written after what it has.
    init(folder: URL, name: String, generation: Int64) throws(StoreError) {
        self.folder = folder
        self.name = name
        self.generation = generation
        descriptor = open(Self.path(folder, name, generation), O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw StoreError(.unavailable, "cannot create a ledger journal in \(folder.path)")
        }
        length = Int(status.st_size)
        #if os(Linux)
        // Without a mapping the file is written with `pwrite`: slower, the same file.
        guard length == 0, ftruncate(descriptor, off_t(Self.mappedSize)) == 0 else { return }
        let address = mmap(nil, Self.mappedSize, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            _ = ftruncate(descriptor, 0)
            return
        }
        mapping = address
        mapped = Self.mappedSize
        #endif
    }

    deinit {
        unmap()
        close(descriptor)
    }

    static func path(_ folder: URL, _ name: String, _ generation: Int64) -> String {
        LedgerJournal.file(folder, name, generation).path
    }

    /// Adds `bytes` (whole lines) after what the file has; false when they could not be written.
    func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty else { return true }
        guard copyIntoMapping(bytes) || writeAtEnd(bytes) else { return false }
        length += bytes.count
        return true
    }

    /// Empties a file whose every line is in its mapping, to be used again: true when it was.
    func clear() -> Bool {
        guard let mapping, length <= writable else { return false }
        mapping.initializeMemory(as: UInt8.self, repeating: 0, count: length)
        length = 0
        return true
    }

    /// Gives an emptied file the name of generation `next`.
    func renumber(to next: Int64) -> Bool {
        guard rename(Self.path(folder, name, generation), Self.path(folder, name, next)) == 0 else {
            return false
        }
        generation = next
        return true
    }

    /// Cuts the file to what it holds (the journal is closing in order).
    func trim() {
        unmap()
        _ = ftruncate(descriptor, off_t(length))
    }

    func remove() { unlink(Self.path(folder, name, generation)) }

    // MARK: Writing

    /// Copies `bytes` after what is written, the last byte (a newline) last; false when the mapping has
    /// no room for them (or there is none).
    private func copyIntoMapping(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let mapping, length + bytes.count <= mapped else { return false }
        #if os(Linux)
        if length + bytes.count > writable {
            let step = Self.writableStep
            let end = min((length + bytes.count + step - 1) / step * step, mapped)
            // Made writable (and its blocks reserved) now, so the copy cannot fault: an error here (a
            // full disk) comes back as one instead of as SIGBUS, and the lines are written instead.
            guard madvise(mapping + writable, end - writable, Self.populateWrite) == 0 else {
                unmap()
                return false
            }
            writable = end
        }
        #endif
        let target = mapping + length
        target.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count - 1)
        atomicMemoryFence(ordering: .releasing)
        target.storeBytes(of: bytes[bytes.count - 1], toByteOffset: bytes.count - 1, as: UInt8.self)
        return true
    }

    private func writeAtEnd(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let result = pwrite(descriptor, bytes.baseAddress! + offset, bytes.count - offset, off_t(length + offset))
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else { return false }
            offset += result
        }
        return true
    }

    private func unmap() {
        if let mapping { munmap(mapping, mapped) }
        mapping = nil
        mapped = 0
        writable = 0
    }

    #if os(Linux)
    /// `MADV_POPULATE_WRITE` (Linux 5.14).
    private static let populateWrite: Int32 = 23
    #endif
}
