import NIOCore

extension SocketAddress {
    /// `127.0.0.1:8443` or `[::1]:8443`.
    public var readable: String {
        let host = ipAddress ?? "?"
        let port = self.port ?? 0
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
