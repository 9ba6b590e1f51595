import GatehouseCore

/// One address and port a Service sends traffic to (after DNAT).
struct ServiceTarget: Hashable, Sendable {
    let address: IPAddress
    /// nil: every port of the protocol.
    let port: UInt16?
    let `protocol`: IPProtocol
}
