import Foundation
import Yams

/// One kubeconfig file as kubectl writes it (`apiVersion: v1`, `kind: Config`), the fields Gatehouse reads.
struct KubeconfigFile: Decodable {
    struct Named<Value: Decodable & Entry>: Decodable {
        let name: String
        let value: Value?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: DynamicKey.self)
            name = try container.decode(String.self, forKey: DynamicKey("name"))
            value = try container.decodeIfPresent(Value.self, forKey: DynamicKey(Value.key))
        }
    }

    struct DynamicKey: CodingKey {
        let stringValue: String
        init(_ string: String) { stringValue = string }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    struct Cluster: Decodable, Entry {
        static let key = "cluster"
        let server: String?
        let certificateAuthority: String?
        let certificateAuthorityData: String?
        let insecureSkipTLSVerify: Bool?
        let tlsServerName: String?
        let proxyURL: String?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            case tlsServerName = "tls-server-name"
            case proxyURL = "proxy-url"
        }
    }

    struct User: Decodable, Entry {
        static let key = "user"
        let token: String?
        let tokenFile: String?
        let clientCertificate: String?
        let clientCertificateData: String?
        let clientKey: String?
        let clientKeyData: String?
        let username: String?
        let exec: Ignored?
        let authProvider: Ignored?

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
        }
    }

    struct Context: Decodable, Entry {
        static let key = "context"
        let cluster: String?
        let user: String?
        let namespace: String?
    }

    /// A list entry's value, found under its own key (`cluster`, `user`, `context`).
    protocol Entry {
        static var key: String { get }
    }

    /// A section that is only noticed, never read (credential plugins).
    struct Ignored: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    let clusters: [Named<Cluster>]?
    let users: [Named<User>]?
    let contexts: [Named<Context>]?
    let currentContext: String?

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }

    /// Reads and decodes a kubeconfig; errors name the file and never quote its contents.
    static func read(_ path: String) throws(ClusterError) -> KubeconfigFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ClusterError(.configuration, "kubeconfig \(path): cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ClusterError(.configuration, "kubeconfig \(path): not UTF-8 text")
        }
        do {
            return try YAMLDecoder().decode(KubeconfigFile.self, from: text)
        } catch let error as DecodingError {
            throw ClusterError(.configuration, "kubeconfig \(path): \(KubeconfigFile.describe(error))")
        } catch {
            throw ClusterError(.configuration, "kubeconfig \(path): not a kubeconfig (YAML that cannot be parsed)")
        }
    }

    /// The field path and problem of a decoding error, without the values (which may be secrets).
    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "field \(path(context.codingPath)) has the wrong type"
        case .keyNotFound(let key, let context):
            return "field \(path(context.codingPath + [key])) is missing"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not a kubeconfig" : "field \(path(context.codingPath)) is not valid"
        @unknown default:
            return "not a kubeconfig"
        }
    }
}
