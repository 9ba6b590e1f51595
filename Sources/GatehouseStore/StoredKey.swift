import Foundation

/// An API or admin key as the store keeps it: everything but the secret, which is kept only as a
/// SHA-256 digest.
public struct StoredKey: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case api
        case admin
    }

    /// The public part of the key (the characters after the prefix), unique, shown in listings.
    public let id: String
    public let kind: Kind
    public let name: String
    public let labels: [String: String]
    public let createdAt: Date
    public let expiresAt: Date?
    public let revokedAt: Date?
    /// SHA-256 of the whole key text.
    public let secretDigest: [UInt8]
    public let quota: KeyQuota

    public init(
        id: String,
        kind: Kind,
        name: String,
        labels: [String: String],
        createdAt: Date,
        expiresAt: Date?,
        revokedAt: Date?,
        secretDigest: [UInt8],
        quota: KeyQuota = KeyQuota()
    ) {
        self.id = id
        self.kind = kind
        self.name = name
        self.labels = labels
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.secretDigest = secretDigest
        self.quota = quota
    }

    /// Whether the key may be used at `date`.
    public func isUsable(at date: Date) -> Bool {
        guard revokedAt == nil else { return false }
        guard let expiresAt else { return true }
        return date < expiresAt
    }

    /// The key's state at `date`, as listings show it.
    public func status(at date: Date) -> String {
        if revokedAt != nil { return "revoked" }
        if let expiresAt, date >= expiresAt { return "expired" }
        return "active"
    }
}
