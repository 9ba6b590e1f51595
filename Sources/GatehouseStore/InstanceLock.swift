import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Marks a running gateway in the data directory: a lock file (`instances/<id>.lock`) it holds with
/// `flock` for as long as it runs. The kernel drops the lock when the process ends, however it ends, so
/// another process can tell a live gateway's reservations from those a dead one left behind.
public final class InstanceLock: Sendable {
    public let id: String
    private let descriptor: Int32

    /// Takes a new instance's lock in `directory`.
    public init(directory: URL) throws(StoreError) {
        let folder = directory.appending(path: "instances")
        id = InstanceID.make()
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        descriptor = open(folder.appending(path: "\(id).lock").path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            throw StoreError(.unavailable, "cannot create a lock file in \(folder.path)")
        }
    }

    deinit { close(descriptor) }

    /// Whether the instance `id` is running. A dead instance's lock file is removed.
    public static func isRunning(_ id: String, in directory: URL) -> Bool {
        guard !id.isEmpty, id.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return false }
        let path = directory.appending(path: "instances/\(id).lock").path
        let descriptor = open(path, O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        unlink(path)
        return false
    }
}
