import GatehouseCore

/// What every rule test of one flow needs, computed once per decision.
struct FlowContext {
    let flow: Flow
    let sourcePod: Int
    let destinationPod: Int
    /// The flow's port class; nil for protocols without ports.
    let classID: Int?
    /// 4 or 6.
    let family: UInt8
    /// 0 for IPv4, 1 for IPv6: which half of the peer table applies.
    let familyIndex: Int

    init(_ flow: Flow, engine: PolicyEngine) {
        self.flow = flow
        if case .pod(let index) = flow.source { sourcePod = index } else { sourcePod = -1 }
        if case .pod(let index) = flow.destination { destinationPod = index } else { destinationPod = -1 }
        self.classID = engine.classIndex.classID(flow.protocol, flow.port)
        // The connection's family: an external address's; between pods, IPv4 when both have one, else IPv6
        // when both have one, else whatever address is known.
        var family: UInt8 = 0
        switch (flow.source, flow.destination) {
        case (.external(let address), _), (_, .external(let address)):
            family = UInt8(address.family.rawValue)
        case (.pod(let source), .pod(let destination)):
            let shared = engine.podFamilies[source] & engine.podFamilies[destination]
            let known = shared != 0 ? shared : engine.podFamilies[source] | engine.podFamilies[destination]
            family = known & 1 != 0 || known == 0 ? 4 : 6
        }
        self.family = family
        self.familyIndex = family == 6 ? 1 : 0
    }
}
