/// TLS on the data-plane listener, and client certificates (mTLS).
public struct TLSSettings: Sendable, Hashable {
    public enum ClientCertificates: String, Sendable, Hashable {
        /// Client certificates are not asked for.
        case none
        /// Asked for and verified when sent; callers without one use keys or tokens.
        case optional
        /// Every connection must present a certificate the CA bundle verifies.
        case required
    }

    public var enabled: Bool = true
    /// PEM certificate chain and key; when absent, a self-signed pair is made and kept in the data directory.
    public var certificateFile: String?
    public var keyFile: String?
    /// PEM bundle of the CAs that sign client certificates.
    public var clientCAFile: String?
    public var clientCertificates: ClientCertificates = .none

    public init() {}
}
