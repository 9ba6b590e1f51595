import GatehouseCore

/// How a verified client certificate becomes an identity: its SAN (a URI such as a SPIFFE ID, or a
/// DNS name) matched exactly, or by prefix when the pattern ends in `*`.
public struct CertificateIdentityRule: Sendable, Hashable {
    public var san: String
    /// The identity's name; nil: the SAN (see `identityName(for:)`).
    public var name: String?
    public var labels: Labels

    public init(san: String, name: String? = nil, labels: Labels = [:]) {
        self.san = san
        self.name = name
        self.labels = labels
    }

    /// The name of the identity a certificate with the SAN `matched` becomes: the rule's `name`, or the
    /// SAN. A URI SAN (a SPIFFE ID) has a `:` that no API key's name has; a DNS name gets `dns:` before
    /// it, so that by default no certificate takes a key's name, grants, limits or budget.
    public func identityName(for matched: String) -> String {
        if let name { return name }
        return matched.contains(":") ? matched : "dns:" + matched
    }

    public func matches(_ candidate: String) -> Bool {
        if san.hasSuffix("*") { return candidate.hasPrefix(san.dropLast()) }
        return candidate == san
    }
}
