import GatehouseCore

/// One new connection to judge: from, to, protocol, destination port, and the source port when known
/// (otherwise an ephemeral one chosen by the client).
public struct Flow: Sendable, Hashable {
    public let source: FlowEndpoint
    public let destination: FlowEndpoint
    public let `protocol`: IPProtocol
    public let port: UInt16
    public let sourcePort: UInt16?

    public init(
        source: FlowEndpoint,
        destination: FlowEndpoint,
        protocol: IPProtocol,
        port: UInt16,
        sourcePort: UInt16? = nil
    ) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.port = port
        self.sourcePort = sourcePort
    }
}
