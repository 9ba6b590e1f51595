import GatehousePolicy

/// A model route ready for requests: its access subject, its price and its upstreams, in order.
final class ModelRuntime: Sendable {
    let route: ModelRoute
    /// Its position among the configuration's models, as access decisions ask for it.
    let index: Int
    let subject: AccessSubject
    let price: ModelPrice
    let upstreams: [Upstream]

    init(route: ModelRoute, index: Int, price: ModelPrice, upstreams: [Upstream]) {
        self.route = route
        self.index = index
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
