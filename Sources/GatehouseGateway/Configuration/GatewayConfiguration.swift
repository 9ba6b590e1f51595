import GatehouseCore
import GatehousePolicy
import GatehouseStore

/// Everything `gatehouse serve` runs with, validated as a whole; swapped atomically on reload.
public struct GatewayConfiguration: Sendable {
    public var listen = ListenAddress(host: "127.0.0.1", port: 8443)
    public var adminListen = ListenAddress(host: "127.0.0.1", port: 8444)
    public var tls = TLSSettings()
    public var apiKeys = true
    public var jwtIssuers: [JWTIssuerSettings] = []
    public var certificateIdentities: [CertificateIdentityRule] = []
    public var models: [ModelRoute] = []
    public var access = AccessPolicySet(policies: [])
    public var limits = RequestLimits()
    public var quotas: [Quota] = []
    public var guardrails: [GuardrailPolicy] = []
    /// Whether every request is recorded in the audit trail (`audit.enabled`; off only for benchmarks
    /// and throwaway setups).
    public var auditEnabled = true
    public var flows = FlowSettings()
    /// Identity label keys that become metric labels (`metrics.identityLabels`); none by default, as
    /// every value multiplies the series.
    public var metricsIdentityLabels: [String] = []
    /// The SHA-256 digest of the scrape token (`metrics.tokenFile`): a bearer credential good for
    /// `/metrics` only, so Prometheus need not hold the admin key.
    public var metricsTokenDigest: [UInt8]?
    /// Where request spans are exported (`telemetry.otlp`); nil: no traces.
    public var traces: TraceSettings?
    /// Prices by model name (`prices:`), over the list prices.
    public var prices: [String: ModelPrice] = [:]
    /// The price of a model nothing else prices (`prices.default`).
    public var defaultPrice = ModelPrice.free
    /// Where the store is (`store:`): nil for the embedded one in the data directory. Read when the
    /// gateway starts; a reload that changes it is refused.
    public var store: StoreLocation?
    /// The file it was read from; nil for the embedded defaults.
    public var file: String?

    public init() {}

    /// The embedded defaults: TLS with a self-signed certificate, API keys, and one policy that lets
    /// every authenticated caller use every model (write a `gatehouse.yaml` to narrow it).
    public static func embeddedDefaults(models: [ModelRoute]) -> GatewayConfiguration {
        var configuration = GatewayConfiguration()
        configuration.models = models
        configuration.access = AccessPolicySet(policies: [
            AccessPolicy(
                name: "authenticated-callers-use-any-model",
                order: nil,
                selector: .all,
                rules: [AccessRule(action: .allow, modelNames: nil, modelSelector: nil)]
            )
        ])
        return configuration
    }

    /// What `route` costs: its own price, else `prices:`, else the list price of its name, else the default.
    public func price(of route: ModelRoute) -> ModelPrice {
        route.price ?? prices[route.name] ?? ModelPrice.listPrices[route.name] ?? defaultPrice
    }

    /// The route for a name or alias.
    public func route(named name: String) -> ModelRoute? {
        models.first { $0.name == name || $0.aliases.contains(name) }
    }
}
