import GatehouseCore
import GatehousePolicy
import GatehouseStore

/// A caller the gateway has authenticated: a name and labels, whatever the credential was.
public struct Identity: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        case apiKey = "api-key"
        case jwt
        case clientCertificate = "client-certificate"
        case adminKey = "admin-key"
        /// The scrape token of `metrics.tokenFile`: good for `/metrics` only.
        case metricsToken = "metrics-token"
    }

    /// The label that tells policies how the caller authenticated.
    public static let methodLabel = "gatehouse.io/auth"

    public let name: String
    public let method: Method
    /// The caller's labels, with `gatehouse.io/auth` and `gatehouse.io/name` added.
    public let subject: AccessSubject
    /// The API key's public id, for the audit trail (never the key).
    public let keyID: String?
    /// Limits the key itself carries.
    public let keyQuota: KeyQuota

    public init(name: String, method: Method, labels: Labels, keyID: String? = nil, keyQuota: KeyQuota = KeyQuota()) {
        self.name = name
        self.method = method
        self.keyID = keyID
        self.keyQuota = keyQuota
        var labels = labels
        labels[Self.methodLabel] = method.rawValue
        self.subject = AccessSubject(name: name, labels: labels)
    }

    public var labels: Labels { subject.labels }
}
