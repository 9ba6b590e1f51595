/// What a rule requires of one end of a flow: any of `peers` (none listed = anything), and a port
/// in `ports` (none listed = any port) but not in `notPorts`.
public struct EntityMatch: Sendable, Hashable {
    public var peers: [Peer]
    public var ports: [PortMatch]
    public var notPorts: [PortMatch]

    public init(peers: [Peer] = [], ports: [PortMatch] = [], notPorts: [PortMatch] = []) {
        self.peers = peers
        self.ports = ports
        self.notPorts = notPorts
    }

    public static let any = EntityMatch()

    public var constrainsPeer: Bool { !peers.isEmpty }
}
