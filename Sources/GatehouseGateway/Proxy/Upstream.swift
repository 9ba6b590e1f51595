import Synchronization

/// One upstream server as the running gateway knows it: its settings, its pooled connections, and its
/// health (from checks and from failed requests).
public final class Upstream: Sendable {
    public let settings: UpstreamSettings
    /// `scheme://host:port/base`, made once, for logs.
    let origin: String
    /// Requests and health checks go over these pooled connections, checked as configured.
    let connections: UpstreamConnections
    private let healthy = Atomic<Bool>(true)

    init(settings: UpstreamSettings) throws {
        self.settings = settings
        self.origin = settings.origin
        self.connections = try UpstreamConnections(settings: settings)
    }

    public var isHealthy: Bool { healthy.load(ordering: .relaxed) }

    func markHealthy(_ value: Bool) { healthy.store(value, ordering: .relaxed) }
}
