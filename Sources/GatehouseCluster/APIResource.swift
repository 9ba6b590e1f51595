/// A kind the API serves at one group and version: `pods` (v1), `networkpolicies.crd.projectcalico.org` (v1).
public struct APIResource: Sendable, Hashable, CustomStringConvertible {
    public let group: String
    public let version: String
    /// The URL name (`networkpolicies`).
    public let plural: String
    public let kind: String
    public let namespaced: Bool

    public init(group: String, version: String, plural: String, kind: String, namespaced: Bool) {
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
    }

    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The collection of every namespace's objects.
    public var path: String { group.isEmpty ? "/api/\(version)/\(plural)" : "/apis/\(group)/\(version)/\(plural)" }

    /// One object's URL; `namespace` is ignored for cluster-scoped kinds.
    public func path(of name: String, namespace: String?) -> String {
        let prefix = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        guard namespaced else { return "\(prefix)/\(plural)/\(name)" }
        return "\(prefix)/namespaces/\(namespace ?? "default")/\(plural)/\(name)"
    }

    /// As kubectl and RBAC messages name it: `pods`, `networkpolicies.networking.k8s.io`.
    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }
}
