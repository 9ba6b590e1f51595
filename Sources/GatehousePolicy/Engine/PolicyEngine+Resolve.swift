import GatehouseCore

extension PolicyEngine {
    /// Resolves `namespace/name` (a pod) or `ip:ADDRESS` (an address; a pod's own address means that pod).
    public func resolve(_ text: String) throws(ResourceError) -> FlowEndpoint {
        if text.hasPrefix("ip:") {
            guard let address = IPAddress(text.dropFirst(3)) else {
                throw ResourceError(
                    .invalidValue,
                    "\"\(text)\" is not an address (want ip:ADDRESS, such as ip:203.0.113.7)"
                )
            }
            if let pod = cluster.pod(owning: address) { return .pod(pod) }
            return .external(address)
        }
        guard text.contains("/") else {
            throw ResourceError(.invalidValue, "\"\(text)\" names no endpoint (want NAMESPACE/POD or ip:ADDRESS)")
        }
        guard let pod = cluster.pod(named: text) else {
            throw ResourceError(.unknownReference, "no pod \(text) in the given cluster state")
        }
        return .pod(pod)
    }

    /// Every endpoint a matrix covers: the pods, then the listed external addresses.
    public var matrixEndpoints: [FlowEndpoint] {
        cluster.pods.indices.map { FlowEndpoint.pod($0) } + cluster.external.map { FlowEndpoint.external($0) }
    }
}
