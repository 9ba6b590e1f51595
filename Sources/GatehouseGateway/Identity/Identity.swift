import GatehouseCore
import GatehousePolicy

/// A caller the gateway has authenticated: a name and labels, whatever the credential was.
public struct Identity: Sendable, Hashable {
    public enum Method: String, Sendable, Hashable {
        case apiKey = "api-key"
        case jwt
        case clientCertificate = "client-certificate"
        case adminKey = "admin-key"
    }

    /// The label that tells policies how the caller authenticated.
    public static let methodLabel = "gatehouse.io/auth"

    public let name: String
    public let method: Method
    /// The caller's labels, with `gatehouse.io/auth` and `gatehouse.io/name` added.
    public let subject: AccessSubject

    public init(name: String, method: Method, labels: Labels) {
        self.name = name
        self.method = method
        var labels = labels
        labels[Self.methodLabel] = method.rawValue
        self.subject = AccessSubject(name: name, labels: labels)
    }

    public var labels: Labels { subject.labels }
}
