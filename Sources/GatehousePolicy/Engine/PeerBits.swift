import GatehouseCore

/// The pods a peer matches, once for IPv4 connections and once for IPv6: address-based criteria (ipBlock,
/// nets, network sets) look at the pod's address of the connection's family.
struct PeerBits: Hashable {
    var v4: BitSet
    var v6: BitSet

    init(_ bits: BitSet) {
        self.v4 = bits
        self.v6 = bits
    }

    subscript(family: IPAddress.Family) -> BitSet {
        get { family == .v4 ? v4 : v6 }
        set {
            if family == .v4 { v4 = newValue } else { v6 = newValue }
        }
    }

    mutating func formUnion(_ other: PeerBits) {
        v4.formUnion(other.v4)
        v6.formUnion(other.v6)
    }

    /// Both sets' words, IPv4 first: the layout of the engine's peer table.
    var words: [UInt64] { v4.words + v6.words }
}
