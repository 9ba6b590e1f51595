import GatehousePolicy

/// A model route ready for requests: its access subject, its price and its upstreams, in order.
final class ModelRuntime: Sendable {
    let route: ModelRoute
    let subject: AccessSubject
    let price: ModelPrice
    let upstreams: [Upstream]

    init(route: ModelRoute, price: ModelPrice, upstreams: [Upstream]) {
        self.route = route
        self.subject = AccessSubject(name: route.name, labels: route.labels)
        self.price = price
        self.upstreams = upstreams
    }

    /// The upstreams to try, healthy ones first, each once.
    var candidates: [Upstream] {
        // The usual case without a copy.
        if upstreams.allSatisfy(\.isHealthy) { return upstreams }
        return upstreams.filter(\.isHealthy) + upstreams.filter { !$0.isHealthy }
    }
}
