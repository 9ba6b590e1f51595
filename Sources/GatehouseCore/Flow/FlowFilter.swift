import Foundation

/// Which flows a query wants, in the spirit of `hubble observe`: values within one field are ORed,
/// fields are ANDed, and an empty field matches everything. Names match by prefix (`--from-pod
/// ns/prefix`), as Hubble's do (for peers without a namespace, such as models and SPIFFE identities,
/// the whole value is the prefix); namespaces, actions and the rest match exactly.
public struct FlowFilter: Sendable, Hashable {
    public var sourceKinds: Set<FlowPeer.Kind> = []
    public var destinationKinds: Set<FlowPeer.Kind> = []
    public var sourceNamespaces: Set<String> = []
    public var destinationNamespaces: Set<String> = []
    /// Either end in one of these namespaces.
    public var namespaces: Set<String> = []
    /// `name-prefix` or `namespace/name-prefix`.
    public var sourceNames: [String] = []
    public var destinationNames: [String] = []
    /// Either end.
    public var names: [String] = []
    public var sourceSelector: Selector?
    public var destinationSelector: Selector?
    /// Either end's labels.
    public var selector: Selector?
    public var actions: Set<FlowAction> = []
    /// Policy names (`name`, `namespace/name` or `tier.name`), enforced or pending.
    public var policies: [String] = []
    public var reasons: Set<String> = []
    public var reporters: Set<FlowReporter> = []
    public var protocols: Set<String> = []
    public var ports: Set<UInt16> = []
    public var routes: Set<String> = []
    public var since: Date?
    public var until: Date?

    public init() {}

    public func matches(_ flow: FlowRecord) -> Bool {
        if let since, flow.end < since { return false }
        if let until, flow.start >= until { return false }
        guard Self.contains(sourceKinds, flow.source.kind), Self.contains(destinationKinds, flow.destination.kind)
        else { return false }
        guard Self.inNamespace(sourceNamespaces, flow.source), Self.inNamespace(destinationNamespaces, flow.destination)
        else { return false }
        guard
            namespaces.isEmpty || Self.inNamespace(namespaces, flow.source)
                || Self.inNamespace(namespaces, flow.destination)
        else { return false }
        guard Self.named(sourceNames, flow.source), Self.named(destinationNames, flow.destination) else { return false }
        guard names.isEmpty || Self.named(names, flow.source) || Self.named(names, flow.destination) else {
            return false
        }
        if let sourceSelector, !sourceSelector.matches(Labels(flow.sourceLabels)) { return false }
        if let destinationSelector, !destinationSelector.matches(Labels(flow.destinationLabels)) { return false }
        if let selector, !selector.matches(Labels(flow.sourceLabels)), !selector.matches(Labels(flow.destinationLabels))
        {
            return false
        }
        guard Self.contains(actions, flow.action), Self.contains(reporters, flow.reporter) else { return false }
        guard reasons.isEmpty || flow.reason.map(reasons.contains) == true else { return false }
        guard protocols.isEmpty || protocols.contains(flow.protocol.uppercased()) else { return false }
        guard ports.isEmpty || flow.port.map(ports.contains) == true else { return false }
        guard routes.isEmpty || flow.route.map(routes.contains) == true else { return false }
        guard policies.isEmpty || policies.contains(where: flow.policies.mentions(policy:)) else { return false }
        return true
    }

    private static func contains<T: Hashable>(_ set: Set<T>, _ value: T) -> Bool {
        set.isEmpty || set.contains(value)
    }

    private static func inNamespace(_ set: Set<String>, _ endpoint: FlowPeer) -> Bool {
        set.isEmpty || set.contains(endpoint.namespace ?? "")
    }

    private static func named(_ prefixes: [String], _ endpoint: FlowPeer) -> Bool {
        prefixes.isEmpty
            || prefixes.contains { prefix in
                // Peers without a namespace (identities, models) may have slashes in their names.
                guard let slash = prefix.firstIndex(of: "/"), endpoint.namespace != nil else {
                    return endpoint.name.hasPrefix(prefix)
                }
                return endpoint.namespace == String(prefix[..<slash])
                    && endpoint.name.hasPrefix(prefix[prefix.index(after: slash)...])
            }
    }
}
