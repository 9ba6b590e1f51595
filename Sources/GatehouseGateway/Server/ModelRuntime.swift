import GatehousePolicy

/// A model route ready for requests: its access subject and its upstreams, in order.
final class ModelRuntime: Sendable {
    let route: ModelRoute
    let subject: AccessSubject
    let upstreams: [Upstream]

    init(route: ModelRoute, upstreams: [Upstream]) {
        self.route = route
        self.subject = AccessSubject(name: route.name, labels: route.labels)
        self.upstreams = upstreams
    }

    /// The upstreams to try, healthy ones first, each once.
    var candidates: [Upstream] {
        let healthy = upstreams.filter(\.isHealthy)
        return healthy + upstreams.filter { !$0.isHealthy }
    }
}
