/// A set of `key: value` labels, as on a Kubernetes object, a Calico resource or a gateway identity.
public struct Labels: Sendable, Hashable, ExpressibleByDictionaryLiteral, Sequence, CustomStringConvertible {
    public private(set) var values: [String: String]

    public init(_ values: [String: String] = [:]) { self.values = values }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.values = Dictionary(elements, uniquingKeysWith: { _, last in last })
    }

    public subscript(key: String) -> String? {
        get { values[key] }
        set { values[key] = newValue }
    }

    public var isEmpty: Bool { values.isEmpty }

    public func makeIterator() -> Dictionary<String, String>.Iterator { values.makeIterator() }

    /// These labels with `other`'s added; `other` wins on a shared key.
    public func merging(_ other: Labels) -> Labels {
        Labels(values.merging(other.values, uniquingKeysWith: { _, new in new }))
    }

    /// `k=v,k2=v2`, sorted by key: stable text for tables and tests.
    public var description: String {
        values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}
