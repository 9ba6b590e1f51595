import X509

/// A name a certificate carries among its subject alternative names, as the gateway uses them: the
/// identity an upstream's certificate must show, and what a client certificate's caller is named by.
public enum SubjectAltName: Sendable, Hashable, CustomStringConvertible {
    /// A DNS name, lowercased.
    case dns(String)
    /// A URI such as a SPIFFE ID (`spiffe://cluster.local/ns/ai/sa/vllm`).
    case uri(String)

    /// `spiffe://...` (or any `scheme://`) is a URI, anything else a DNS name.
    public init?(parsing text: String) {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        if text.contains("://") {
            self = .uri(text)
        } else {
            guard HeadValidator.isValidHost(text), !text.contains(":") else { return nil }
            self = .dns(text.lowercased())
        }
    }

    /// The DNS name or URI of a certificate's general name; nil for the other kinds.
    init?(_ name: GeneralName) {
        switch name {
        case .dnsName(let dns): self = .dns(dns.lowercased())
        case .uniformResourceIdentifier(let uri): self = .uri(uri)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .dns(let name): name
        case .uri(let uri): uri
        }
    }
}
