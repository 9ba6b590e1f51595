import Logging
import NIOCore
import ServiceLifecycle

/// Asks each upstream, at its model's interval, for its health-check path; a 2xx answer marks it
/// healthy, anything else (or no answer within two seconds) unhealthy. Unhealthy upstreams are tried
/// last, not skipped: when every upstream is down, requests still try them. Checks go over the
/// upstream's own connections, so they verify it as requests do before its credential is sent.
struct HealthChecker: Service {
    let state: GatewayState
    let eventLoop: any EventLoop
    let logger: Logger

    func run() async throws {
        var lastChecked: [UpstreamSettings: ContinuousClock.Instant] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = ContinuousClock.now
            for model in state.runtime.models {
                for upstream in model.upstreams {
                    if let last = lastChecked[upstream.settings], now - last < model.route.healthCheckInterval {
                        continue
                    }
                    lastChecked[upstream.settings] = now
                    let healthy = await check(upstream, path: model.route.healthCheckPath)
                    if healthy != upstream.isHealthy {
                        logger.info(
                            healthy ? "upstream healthy" : "upstream unhealthy",
                            metadata: ["gatehouse.upstream": "\(upstream.settings.origin)"]
                        )
                    }
                    upstream.markHealthy(healthy)
                }
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func check(_ upstream: Upstream, path: String) async -> Bool {
        let connections = upstream.connections
        let answered = eventLoop.flatSubmit {
            connections.probe(path: path, timeout: .seconds(2), on: eventLoop)
        }
        return (try? await answered.get()) ?? false
    }
}
