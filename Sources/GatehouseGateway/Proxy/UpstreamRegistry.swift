import AsyncHTTPClient
import NIOCore
import Synchronization

/// Keeps one `Upstream` per distinct upstream setting across configuration reloads, so health and
/// pooled connections survive a reload, and one HTTP client per distinct pair of timeouts.
public final class UpstreamRegistry: Sendable {
    private struct ClientKey: Hashable {
        let connect: Duration
        let idle: Duration
    }

    private let group: any EventLoopGroup
    private let upstreams = Mutex<[UpstreamSettings: Upstream]>([:])
    private let clients = Mutex<[ClientKey: HTTPClient]>([:])

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    func upstream(for settings: UpstreamSettings) -> Upstream {
        if let existing = upstreams.withLock({ $0[settings] }) { return existing }
        let client = client(connect: settings.connectTimeout, idle: settings.idleTimeout)
        return upstreams.withLock { table in
            if let existing = table[settings] { return existing }
            let upstream = Upstream(settings: settings, client: client)
            table[settings] = upstream
            return upstream
        }
    }

    /// A client for anything else the gateway fetches (JWKS).
    var utilityClient: HTTPClient { client(connect: .seconds(2), idle: .seconds(10)) }

    private func client(connect: Duration, idle: Duration) -> HTTPClient {
        let key = ClientKey(connect: connect, idle: idle)
        return clients.withLock { table in
            if let client = table[key] { return client }
            var configuration = HTTPClient.Configuration()
            configuration.timeout = .init(connect: TimeAmount(connect), read: TimeAmount(idle))
            configuration.redirectConfiguration = .disallow
            configuration.decompression = .disabled
            configuration.connectionPool = .init(
                idleTimeout: .seconds(60),
                concurrentHTTP1ConnectionsPerHostSoftLimit: 4096
            )
            // A refused connection fails the attempt at once, so the next upstream is tried; the pool
            // would otherwise keep retrying until the request's deadline.
            configuration.connectionPool.retryConnectionEstablishment = false
            let client = HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
            table[key] = client
            return client
        }
    }

    /// Closes every client; call once, at shutdown.
    public func shutdown() async {
        let all = clients.withLock { table in
            defer { table.removeAll() }
            return Array(table.values)
        }
        for client in all { try? await client.shutdown() }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let parts = duration.components
        self = .nanoseconds(parts.seconds * 1_000_000_000 + parts.attoseconds / 1_000_000_000)
    }
}
