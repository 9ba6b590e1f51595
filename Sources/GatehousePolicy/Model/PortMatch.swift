import GatehouseCore

/// A port criterion: a protocol (nil: the rule's), and any port, a range, or a named port.
public struct PortMatch: Sendable, Hashable, CustomStringConvertible {
    public enum Ports: Sendable, Hashable {
        case any
        case range(PortRange)
        /// Resolved on the endpoint at that end of the flow (`containerPorts[].name`).
        case named(String)
    }

    public let `protocol`: IPProtocol?
    public let ports: Ports

    public init(protocol: IPProtocol?, ports: Ports) {
        self.protocol = `protocol`
        self.ports = ports
    }

    public var description: String {
        let proto = self.protocol.map { "\($0)/" } ?? ""
        switch ports {
        case .any: return proto.isEmpty ? "any" : "\(proto)*"
        case .range(let range): return "\(proto)\(range)"
        case .named(let name): return "\(proto)\(name)"
        }
    }
}
