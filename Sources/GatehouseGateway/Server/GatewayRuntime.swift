import GatehousePolicy

/// One configuration made ready for requests: model lookup by name and alias, verifiers, policies.
/// Immutable; a reload builds a new one and swaps it in, so a request sees one configuration throughout.
final class GatewayRuntime: Sendable {
    let configuration: GatewayConfiguration
    let models: [ModelRuntime]
    private let modelsByName: [String: ModelRuntime]
    let verifiers: [JWTVerifier]
    let access: ModelAccess

    init(configuration: GatewayConfiguration, registry: UpstreamRegistry, previous: GatewayRuntime?) throws {
        self.configuration = configuration
        let models = try configuration.models.enumerated().map { index, route in
            ModelRuntime(
                route: route,
                index: index,
                price: configuration.price(of: route),
                upstreams: try route.upstreams.map(registry.upstream(for:))
            )
        }
        self.models = models
        var table: [String: ModelRuntime] = [:]
        for model in models {
            for name in [model.route.name] + model.route.aliases { table[name] = model }
        }
        self.modelsByName = table
        self.access = ModelAccess(policies: configuration.access, models: models.map(\.subject))
        // Verifiers keep their cached keys across reloads when their issuer's settings did not change.
        self.verifiers = configuration.jwtIssuers.map { settings in
            previous?.verifiers.first { $0.settings == settings }
                ?? JWTVerifier(settings: settings, httpClient: registry.checks)
        }
    }

    func model(named name: String) -> ModelRuntime? { modelsByName[name] }
}
