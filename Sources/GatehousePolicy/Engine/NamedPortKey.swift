import GatehouseCore

/// A port name with its protocol, as pods declare them.
struct NamedPortKey: Hashable {
    let name: String
    let `protocol`: IPProtocol
}
