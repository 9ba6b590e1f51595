/// A Calico rule's `services: {name, namespace}`.
public struct ServiceReference: Sendable, Hashable, CustomStringConvertible {
    public let namespace: String
    public let name: String

    public var description: String { "\(namespace)/\(name)" }
}
