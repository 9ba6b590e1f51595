import GatehouseCore

/// How a verified client certificate becomes an identity: its SAN (a URI such as a SPIFFE ID, or a
/// DNS name) matched exactly, or by prefix when the pattern ends in `*`.
public struct CertificateIdentityRule: Sendable, Hashable {
    public var san: String
    /// The identity's name; nil: the SAN itself.
    public var name: String?
    public var labels: Labels

    public init(san: String, name: String? = nil, labels: Labels = [:]) {
        self.san = san
        self.name = name
        self.labels = labels
    }

    public func matches(_ candidate: String) -> Bool {
        if san.hasSuffix("*") { return candidate.hasPrefix(san.dropLast()) }
        return candidate == san
    }
}
