/// One object of a watched resource, as JSON with its kind and apiVersion (list items carry neither).
public struct WatchedObject: Sendable, Equatable {
    public let namespace: String?
    public let name: String
    public let resourceVersion: String
    public let json: String

    /// `namespace/name`, or `name` for cluster-scoped kinds.
    public var key: String { namespace.map { "\($0)/\(name)" } ?? name }
}
