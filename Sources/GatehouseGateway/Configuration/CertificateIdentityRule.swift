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
    /// SAN, so that by default no certificate takes the name (grants, limits, budget) of another caller.
    /// A DNS name gets `dns:` before it, since a key's name may look like one; a URI (a SPIFFE ID) has a
    /// `:` that no key's name has, but one with a `#` could take a token caller's `issuer#subject`, so it
    /// names no one (SPIFFE IDs have no fragment).
    func identityName(for matched: SubjectAltName) -> String? {
        if let name { return name }
        switch matched {
        case .dns(let dns): return "dns:" + dns
        case .uri(let uri): return uri.contains("#") ? nil : uri
        }
    }

    public func matches(_ candidate: String) -> Bool {
        if san.hasSuffix("*") { return candidate.hasPrefix(san.dropLast()) }
        return candidate == san
    }
}
