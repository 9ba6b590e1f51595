/// An IPv4 or IPv6 address, stored as 128 bits so that both families compare and mask alike.
///
/// IPv4 addresses occupy the low 32 bits and are kept distinct from IPv6 by `family`;
/// `::ffff:a.b.c.d` stays an IPv6 address, as the kernel and Kubernetes treat it.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public enum Family: Int, Sendable, Hashable, Comparable {
        case v4 = 4
        case v6 = 6

        public static func < (lhs: Family, rhs: Family) -> Bool { lhs.rawValue < rhs.rawValue }

        /// The number of bits in an address of this family.
        public var bitWidth: Int { self == .v4 ? 32 : 128 }
    }

    public let family: Family
    /// The high 64 bits (always 0 for IPv4).
    public let high: UInt64
    /// The low 64 bits (the whole address for IPv4).
    public let low: UInt64

    public init(v4 value: UInt32) {
        self.family = .v4
        self.high = 0
        self.low = UInt64(value)
    }

    public init(v6High high: UInt64, low: UInt64) {
        self.family = .v6
        self.high = high
        self.low = low
    }

    /// Parses dotted IPv4 (`10.0.0.1`) or IPv6 text (`fd00::1`, `::ffff:10.0.0.1`); nil when invalid.
    public init?(_ text: some StringProtocol) {
        if text.contains(":") {
            guard let (high, low) = IPAddress.parseV6(Substring(text)) else { return nil }
            self.init(v6High: high, low: low)
        } else {
            guard let value = IPAddress.parseV4(Substring(text)) else { return nil }
            self.init(v4: value)
        }
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        (lhs.family, lhs.high, lhs.low) < (rhs.family, rhs.high, rhs.low)
    }

    public var description: String {
        switch family {
        case .v4:
            let value = UInt32(truncatingIfNeeded: low)
            return "\(value >> 24).\((value >> 16) & 0xff).\((value >> 8) & 0xff).\(value & 0xff)"
        case .v6:
            return IPAddress.formatV6(high: high, low: low)
        }
    }

    private static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            // Leading zeros are rejected, as Go's net/netip does, so "010" is never octal or decimal by accident.
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCIIDigit),
                part == "0" || !part.hasPrefix("0"), let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    private static func parseV6(_ text: Substring) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        var head: [UInt16] = []
        var sawCompression = false
        var rest = text
        if let zone = rest.firstIndex(of: "%") { rest = rest[..<zone] }
        guard !rest.isEmpty else { return nil }
        if let range = rest.firstRange(of: "::") {
            guard rest[range.upperBound...].firstRange(of: "::") == nil else { return nil }
            sawCompression = true
            guard let before = parseGroups(rest[..<range.lowerBound], allowV4Tail: false),
                let after = parseGroups(rest[range.upperBound...], allowV4Tail: true)
            else { return nil }
            head = before
            groups = after
            guard head.count + groups.count <= 7 else { return nil }
        } else {
            guard let all = parseGroups(rest, allowV4Tail: true), all.count == 8 else { return nil }
            head = all
        }
        var words = head
        if sawCompression {
            words += Array(repeating: 0, count: 8 - head.count - groups.count) + groups
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, word) in words.enumerated() {
            if index < 4 { high = high << 16 | UInt64(word) } else { low = low << 16 | UInt64(word) }
        }
        return (high, low)
    }

    private static func parseGroups(_ text: Substring, allowV4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var words: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if allowV4Tail && index == parts.count - 1 && part.contains(".") {
                guard let v4 = parseV4(part) else { return nil }
                words.append(UInt16(v4 >> 16))
                words.append(UInt16(v4 & 0xffff))
                continue
            }
            guard !part.isEmpty, part.count <= 4, let word = UInt16(part, radix: 16) else { return nil }
            words.append(word)
        }
        return words
    }

    private static func formatV6(high: UInt64, low: UInt64) -> String {
        let words = (0..<8).map { index -> UInt16 in
            let source = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: source >> (UInt64(3 - index % 4) * 16))
        }
        // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
        var bestStart = -1
        var bestLength = 0
        var index = 0
        while index < 8 {
            guard words[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8 && words[end] == 0 { end += 1 }
            if end - index > bestLength && end - index >= 2 {
                bestStart = index
                bestLength = end - index
            }
            index = end
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(words[$0], radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
