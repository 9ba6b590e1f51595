import GatehouseCore

/// One end of a flow: a pod of the cluster (by index) or an address outside it.
public enum FlowEndpoint: Sendable, Hashable {
    case pod(Int)
    case external(IPAddress)
}
