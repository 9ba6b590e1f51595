/// Why the cluster could not be read: bad configuration, an unreachable server or a refusal.
///
/// Reasons name the server, the verb and the resource, never a token or a key.
public struct ClusterError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A kubeconfig or in-cluster configuration that cannot be used.
        case configuration
        /// No connection, a TLS failure or a timeout.
        case unreachable
        /// 401: the credentials were refused (an expired or revoked token, an unknown certificate).
        case unauthorized
        /// 403: the credentials are good but RBAC does not allow the verb on the resource.
        case forbidden
        /// 404: the resource or object does not exist.
        case notFound
        /// 409: a field another manager owns (server-side apply), or an object changed meanwhile.
        case conflict
        /// 410: the resource version or `continue` token is too old; list again.
        case gone
        /// 422: the server's validation refused the object.
        case invalid
        /// Any other status, or an answer that is not what the API promises.
        case server
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { reason }
}
