import Foundation

/// Where the API server is and how to prove who we are: a kubeconfig context or a pod's service account,
/// resolved. The token and key stay out of `description`.
public struct ClusterConnection: Sendable, CustomStringConvertible {
    /// How requests are authenticated.
    public enum Credential: Sendable {
        case none
        /// A bearer token, read once, or from a file that is read again for each connection (bound
        /// service-account tokens are rotated by the kubelet).
        case token(String)
        case tokenFile(String)
        /// A client certificate and its key, PEM.
        case certificate(chain: [UInt8], key: [UInt8])
    }

    /// The context's name, or `in-cluster`; shown in `k8s://NAME/...` locations.
    public let name: String
    /// `https://host:port`, with no trailing slash.
    public let server: String
    /// The CA bundle (PEM) that signs the server's certificate; nil trusts the system's roots.
    public let certificateAuthority: [UInt8]?
    /// kubeconfig's `insecure-skip-tls-verify`: no check of the server's certificate.
    public let insecureSkipTLSVerify: Bool
    public let credential: Credential
    /// The context's default namespace, if it names one.
    public let namespace: String?

    public init(
        name: String,
        server: String,
        certificateAuthority: [UInt8]?,
        insecureSkipTLSVerify: Bool = false,
        credential: Credential,
        namespace: String? = nil
    ) {
        self.name = name
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.credential = credential
        self.namespace = namespace
    }

    public var description: String {
        let credential: String
        switch self.credential {
        case .none: credential = "no credentials"
        case .token, .tokenFile: credential = "a bearer token"
        case .certificate: credential = "a client certificate"
        }
        return "\(server) (context \(name), \(credential))"
    }

    /// The bearer token to send now, if any.
    func bearerToken() throws(ClusterError) -> String? {
        switch credential {
        case .token(let token):
            return token
        case .tokenFile(let path):
            guard let data = FileManager.default.contents(atPath: path),
                let token = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
                !token.isEmpty
            else {
                throw ClusterError(.configuration, "cannot read the token file \(path)")
            }
            return token
        case .none, .certificate:
            return nil
        }
    }
}
