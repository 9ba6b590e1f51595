/// A fixed-size set of small integers, one bit each: the compiled form of "which endpoints match".
public struct BitSet: Sendable, Hashable {
    public private(set) var words: [UInt64]
    public let count: Int

    public init(count: Int) {
        self.count = count
        self.words = Array(repeating: 0, count: (count + 63) / 64)
    }

    /// The set of every integer below `count`.
    public static func full(count: Int) -> BitSet {
        var bits = BitSet(count: count)
        for index in 0..<count { bits.insert(index) }
        return bits
    }

    @inline(__always)
    public func contains(_ index: Int) -> Bool {
        words[index &>> 6] & (1 &<< UInt64(index & 63)) != 0
    }

    @inline(__always)
    public mutating func insert(_ index: Int) {
        words[index &>> 6] |= 1 &<< UInt64(index & 63)
    }

    public mutating func formUnion(_ other: BitSet) {
        for index in words.indices { words[index] |= other.words[index] }
    }

    public mutating func formIntersection(_ other: BitSet) {
        for index in words.indices { words[index] &= other.words[index] }
    }

    public mutating func subtract(_ other: BitSet) {
        for index in words.indices { words[index] &= ~other.words[index] }
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    public var cardinality: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Whether every member of `other` is a member of this set.
    public func isSuperset(of other: BitSet) -> Bool {
        zip(words, other.words).allSatisfy { $0 & $1 == $1 }
    }

    /// The members in increasing order.
    public var members: [Int] {
        var result: [Int] = []
        for (wordIndex, word) in words.enumerated() {
            var rest = word
            while rest != 0 {
                result.append(wordIndex * 64 + rest.trailingZeroBitCount)
                rest &= rest - 1
            }
        }
        return result
    }
}
