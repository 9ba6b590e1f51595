import AsyncHTTPClient
import NIOCore
import Synchronization

/// Keeps one `Upstream` per distinct upstream setting across configuration reloads, so health and
/// pooled connections survive a reload, and the one HTTP client for JWKS fetches.
public final class UpstreamRegistry: Sendable {
    private let upstreams = Mutex<[UpstreamSettings: Upstream]>([:])
    /// JWKS fetches; requests and health checks go over each upstream's own connections.
    let checks: HTTPClient

    public init(group: any EventLoopGroup) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(2), read: .seconds(10))
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        // A refused connection fails the check at once instead of being retried until its deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        checks = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }

    func upstream(for settings: UpstreamSettings) throws -> Upstream {
        try upstreams.withLock { table in
            if let existing = table[settings] { return existing }
            let upstream = try Upstream(settings: settings)
            table[settings] = upstream
            return upstream
        }
    }

    /// Closes the client; call once, at shutdown.
    public func shutdown() async {
        try? await checks.shutdown()
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let parts = duration.components
        self = .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }
}
