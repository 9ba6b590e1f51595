/// An inclusive range of port numbers, such as Kubernetes `port`..`endPort` or Calico `"8000:8080"`.
public struct PortRange: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let lower: UInt16
    public let upper: UInt16

    public init(_ lower: UInt16, _ upper: UInt16) {
        self.lower = lower
        self.upper = upper
    }

    public init(_ port: UInt16) { self.init(port, port) }

    /// Every port.
    public static let all = PortRange(0, .max)

    /// The Linux default ephemeral range (`net.ipv4.ip_local_port_range`), where unspecified source ports come from.
    public static let ephemeral = PortRange(32768, 60999)

    public func contains(_ port: UInt16) -> Bool { lower <= port && port <= upper }

    public func contains(_ other: PortRange) -> Bool { lower <= other.lower && other.upper <= upper }

    public func overlaps(_ other: PortRange) -> Bool { lower <= other.upper && other.lower <= upper }

    public static func < (lhs: PortRange, rhs: PortRange) -> Bool { (lhs.lower, lhs.upper) < (rhs.lower, rhs.upper) }

    public var description: String { lower == upper ? "\(lower)" : "\(lower)-\(upper)" }
}
