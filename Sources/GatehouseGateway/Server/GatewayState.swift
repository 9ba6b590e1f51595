import Synchronization

/// The configuration in force, swapped whole on reload; each request reads it once.
final class GatewayState: Sendable {
    private let current: Mutex<GatewayRuntime>
    let registry: UpstreamRegistry

    init(configuration: GatewayConfiguration, registry: UpstreamRegistry) {
        self.registry = registry
        self.current = Mutex(GatewayRuntime(configuration: configuration, registry: registry, previous: nil))
    }

    var runtime: GatewayRuntime { current.withLock { $0 } }

    /// Puts `configuration` in force for every request that starts from now on.
    func apply(_ configuration: GatewayConfiguration) {
        let previous = runtime
        let next = GatewayRuntime(configuration: configuration, registry: registry, previous: previous)
        current.withLock { $0 = next }
    }
}
