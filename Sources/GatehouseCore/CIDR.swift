/// A network in CIDR notation, such as `10.0.0.0/8` or `fd00::/64`.
///
/// Host bits are cleared on parsing (`10.0.0.1/8` is `10.0.0.0/8`), as Go's `net.ParseCIDR`
/// does for the Kubernetes and Calico APIs; `isCanonical` tells whether the text had them clear.
public struct CIDR: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int
    /// Whether the text this came from had no host bits set.
    public let isCanonical: Bool

    public init(address: IPAddress, prefixLength: Int) {
        let masked = CIDR.mask(address, prefixLength)
        self.address = masked
        self.prefixLength = prefixLength
        self.isCanonical = masked == address
    }

    /// Parses `ADDRESS/LENGTH`; a bare address is not a CIDR here (callers that accept one say so).
    public init?(_ text: some StringProtocol) {
        guard let slash = text.firstIndex(of: "/"),
            let address = IPAddress(text[text.startIndex..<slash])
        else { return nil }
        let lengthText = text[text.index(after: slash)...]
        guard !lengthText.isEmpty, lengthText.allSatisfy(\.isASCIIDigit), lengthText.count <= 3,
            let length = Int(lengthText), length <= address.family.bitWidth
        else { return nil }
        self.init(address: address, prefixLength: length)
    }

    /// The network holding exactly one address.
    public init(host address: IPAddress) {
        self.init(address: address, prefixLength: address.family.bitWidth)
    }

    public var family: IPAddress.Family { address.family }

    public func contains(_ other: IPAddress) -> Bool {
        other.family == address.family && CIDR.mask(other, prefixLength) == address
    }

    /// Whether every address of `other` is in this network.
    public func contains(_ other: CIDR) -> Bool {
        other.family == family && other.prefixLength >= prefixLength && contains(other.address)
    }

    public static func < (lhs: CIDR, rhs: CIDR) -> Bool {
        (lhs.address, lhs.prefixLength) < (rhs.address, rhs.prefixLength)
    }

    public var description: String { "\(address)/\(prefixLength)" }

    private static func mask(_ address: IPAddress, _ length: Int) -> IPAddress {
        switch address.family {
        case .v4:
            let bits = length == 0 ? 0 : UInt64(UInt32.max << UInt32(32 - length))
            return IPAddress(v4: UInt32(truncatingIfNeeded: address.low & bits))
        case .v6:
            let highBits: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : .max << UInt64(64 - length))
            let lowBits: UInt64 = length <= 64 ? 0 : (length == 128 ? .max : .max << UInt64(128 - length))
            return IPAddress(v6High: address.high & highBits, low: address.low & lowBits)
        }
    }
}
