import Foundation
import GatehouseCore
import GatehouseStore
import Synchronization

/// The usable keys, in memory, for the per-request path: no database read and no allocation to check
/// a key. Loaded from the store and reloaded by `KeyDirectoryRefresher` when the store's generation
/// changes.
public final class KeyDirectory: Sendable {
    struct Entry: Sendable {
        let key: StoredKey
        let identity: Identity
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// The store generation the keys were loaded at: what a remembered key is checked against.
    private let loadedGeneration = Atomic<Int64>(-1)

    public init() {}

    /// Replaces the keys with the store's current ones when the store changed since the last load.
    /// Returns whether it reloaded.
    @discardableResult
    public func reload(from store: Store) throws(StoreError) -> Bool {
        let generation = try store.generation()
        guard generation != version else { return false }
        var fresh: [String: Entry] = [:]
        for kind in [StoredKey.Kind.api, .admin] {
            for key in try store.keys(kind: kind) where key.revokedAt == nil {
                let method: Identity.Method = kind == .api ? .apiKey : .adminKey
                fresh[key.id] = Entry(
                    key: key,
                    identity: Identity(
                        name: key.name,
                        method: method,
                        labels: Labels(key.labels),
                        keyID: key.id,
                        keyQuota: key.quota
                    )
                )
            }
        }
        entries.withLock { $0 = fresh }
        loadedGeneration.store(generation, ordering: .releasing)
        return true
    }

    /// Changes whenever the keys are reloaded.
    var version: Int64 { loadedGeneration.load(ordering: .acquiring) }

    /// The key and identity for presented key text of `kind`, or nil. The text is checked for shape before
    /// any lookup; the digest comparison takes the same time wherever the digests differ.
    func entry(for text: Substring, kind: StoredKey.Kind, now: Date) -> Entry? {
        guard let secret = KeySecret.parse(text), secret.kind == kind else { return nil }
        guard let entry = entries.withLock({ $0[secret.id] }) else { return nil }
        guard KeySecret.digestsEqual(entry.key.secretDigest, secret.digest), entry.key.isUsable(at: now) else {
            return nil
        }
        return entry
    }

    /// Whether any admin key exists (the first start makes one).
    public var hasAdminKey: Bool { entries.withLock { $0.values.contains { $0.key.kind == .admin } } }
}
