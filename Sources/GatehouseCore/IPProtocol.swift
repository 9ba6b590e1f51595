/// An IP protocol by number, with the names Kubernetes and Calico use (`TCP`, `UDP`, `SCTP`, `ICMP`, ...).
public struct IPProtocol: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let number: UInt8

    public init(number: UInt8) { self.number = number }

    public static let icmp = IPProtocol(number: 1)
    public static let tcp = IPProtocol(number: 6)
    public static let udp = IPProtocol(number: 17)
    public static let icmpv6 = IPProtocol(number: 58)
    public static let sctp = IPProtocol(number: 132)
    public static let udplite = IPProtocol(number: 136)

    private static let names: [(String, IPProtocol)] = [
        ("TCP", .tcp), ("UDP", .udp), ("SCTP", .sctp), ("ICMP", .icmp), ("ICMPv6", .icmpv6), ("UDPLite", .udplite),
    ]

    /// Parses a protocol name, matched without regard to case (Calico accepts `tcp` and `TCP`).
    public init?(name: some StringProtocol) {
        guard let match = IPProtocol.names.first(where: { $0.0.lowercased() == name.lowercased() }) else { return nil }
        self = match.1
    }

    public var description: String {
        IPProtocol.names.first(where: { $0.1 == self })?.0 ?? String(number)
    }

    public static func < (lhs: IPProtocol, rhs: IPProtocol) -> Bool { lhs.number < rhs.number }
}
