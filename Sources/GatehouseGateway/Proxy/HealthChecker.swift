import AsyncHTTPClient
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Asks each upstream, at its model's interval, for its health-check path; a 2xx answer marks it
/// healthy, anything else (or no answer within two seconds) unhealthy. Unhealthy upstreams are tried
/// last, not skipped: when every upstream is down, requests still try them.
struct HealthChecker: Service {
    let state: GatewayState
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
        var request = HTTPClientRequest(url: upstream.settings.origin + path)
        request.headers.add(name: "user-agent", value: "gatehouse-health-check")
        if let credential = upstream.settings.credential {
            request.headers.add(name: "authorization", value: "Bearer \(credential.revealed)")
        }
        do {
            let response = try await upstream.client.execute(request, timeout: .seconds(2))
            _ = try? await response.body.collect(upTo: 1 << 20)
            return (200..<300).contains(response.status.code)
        } catch {
            return false
        }
    }
}
