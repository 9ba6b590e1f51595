/// A policy as a trace names it: kind (staged kinds have their own), namespace (for namespaced kinds), name, tier.
public struct PolicyReference: Sendable, Hashable, Codable, CustomStringConvertible {
    public let kind: String
    public let namespace: String?
    public let name: String
    public let tier: String

    public init(kind: String, namespace: String?, name: String, tier: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.tier = tier
    }

    /// `Kind ns/name` or `Kind name`.
    public var description: String {
        guard let namespace else { return "\(kind) \(name)" }
        return "\(kind) \(namespace)/\(name)"
    }
}
