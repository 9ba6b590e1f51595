import NIOSSL
import X509

/// Zero trust towards a model server: which CAs may vouch for it, which name it is asked for, which
/// identity its certificate must carry, and the client certificate the gateway shows it (mTLS).
public struct UpstreamTLSSettings: Sendable, Hashable {
    /// PEM bundle of the CAs that sign the upstream's certificate; nil: the system's roots.
    public var caFile: String?
    /// PEM client certificate chain and key the gateway presents.
    public var certificateFile: String?
    public var keyFile: String?
    /// The name sent in SNI and checked against the certificate; nil: the URL's host.
    public var serverName: String?
    /// When not empty, the certificate must carry one of these (checked on every new connection,
    /// before a request is written to it).
    public var subjectAltNames: [SubjectAltName] = []
    /// SHA-256 of the files' contents as the configuration was read: files rotated at the same paths
    /// make different settings, so a reload (SIGHUP) builds a new TLS context for them.
    public var materialDigest: [UInt8] = []

    public init() {}

    /// The client context: TLS 1.2+, HTTP/1.1 by ALPN, the upstream's chain and name verified.
    func context() throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        configuration.applicationProtocols = ["http/1.1"]
        if let caFile { configuration.trustRoots = .file(caFile) }
        if let certificateFile, let keyFile {
            configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// Whether a verified peer certificate carries one of `subjectAltNames` (always, when none is set).
    func accepts(peer certificate: Certificate) -> Bool {
        guard !subjectAltNames.isEmpty else { return true }
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return false }
        for name in names {
            switch SubjectAltName(name) {
            case let name? where subjectAltNames.contains(name): return true
            default: continue
            }
        }
        return false
    }
}
