/// One server that can answer for a model.
public struct UpstreamSettings: Sendable, Hashable {
    public enum Scheme: String, Sendable, Hashable {
        case http
        case https
    }

    public var scheme: Scheme
    public var host: String
    public var port: Int
    /// A path prefix on the upstream (`/openai` for `http://host/openai/v1/...`), without a trailing slash.
    public var basePath: String
    /// The model name the upstream knows; nil: the name the caller used (after alias resolution).
    public var model: String?
    /// Sent as `Authorization: Bearer ...`; read from the environment or a file, never from the config text.
    public var credential: Secret?
    public var connectTimeout: Duration = .seconds(2)
    /// From sending the request to the response head.
    public var responseTimeout: Duration = .seconds(60)
    /// The longest pause between two pieces of a response body.
    public var idleTimeout: Duration = .seconds(60)
    /// For https: the CA, client certificate, server name and identity to check (system roots without it).
    public var tls = UpstreamTLSSettings()

    public init(
        scheme: Scheme,
        host: String,
        port: Int,
        basePath: String = "",
        model: String? = nil,
        credential: Secret? = nil
    ) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
        self.model = model
        self.credential = credential
    }

    /// Parses an `http://` or `https://` URL with no query, fragment or user info.
    public init?(url text: String) {
        let schemes: [(String, Scheme, Int)] = [("http://", .http, 80), ("https://", .https, 443)]
        guard let (prefix, scheme, defaultPort) = schemes.first(where: { text.lowercased().hasPrefix($0.0) }) else {
            return nil
        }
        let rest = text.dropFirst(prefix.count)
        guard !rest.contains("?"), !rest.contains("#"), !rest.contains("@") else { return nil }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        guard !authority.isEmpty else { return nil }
        if let address = ListenAddress(parsing: String(authority)), authority.last != "]" {
            self.init(scheme: scheme, host: address.host, port: address.port, basePath: path)
        } else {
            var host = String(authority)
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self.init(scheme: scheme, host: host, port: defaultPort, basePath: path)
        }
    }

    /// `scheme://host:port/base`: for logs (it holds no secret).
    public var origin: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        return "\(scheme.rawValue)://\(host):\(port)\(basePath)"
    }
}
