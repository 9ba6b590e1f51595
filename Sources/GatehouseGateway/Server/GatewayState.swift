import Synchronization

/// The configuration in force, swapped whole on reload; each request reads it once.
final class GatewayState: Sendable {
    private let current: Mutex<GatewayRuntime>
    let registry: UpstreamRegistry

    init(configuration: GatewayConfiguration, registry: UpstreamRegistry) throws {
        self.registry = registry
        self.current = Mutex(try GatewayRuntime(configuration: configuration, registry: registry, previous: nil))
    }

    var runtime: GatewayRuntime { current.withLock { $0 } }

    /// Puts `configuration` in force for every request that starts from now on; throws, leaving the
    /// configuration in force, when an upstream's TLS context cannot be made.
    func apply(_ configuration: GatewayConfiguration) throws {
        let previous = runtime
        let next = try GatewayRuntime(configuration: configuration, registry: registry, previous: previous)
        current.withLock { $0 = next }
    }
}
