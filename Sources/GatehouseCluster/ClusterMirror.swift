/// The objects a watch has seen, resource by resource: updated from `ClusterUpdate`s, written out as one
/// typed list per resource for the loader.
public struct ClusterMirror: Sendable {
    public let resources: [APIResource]
    private var objects: [APIResource: [String: WatchedObject]] = [:]
    /// Where locations point: `k8s://CONTEXT`.
    public let origin: String

    public init(resources: [APIResource], origin: String) {
        self.resources = resources
        self.origin = origin
    }

    /// Whether every resource has been listed once.
    public var isComplete: Bool { resources.allSatisfy { objects[$0] != nil } }

    public var count: Int { objects.values.reduce(0) { $0 + $1.count } }

    /// Applies an update; false when it changes nothing (an event for a version already seen, as after a
    /// reconnect).
    @discardableResult
    public mutating func apply(_ update: ClusterUpdate) -> Bool {
        switch update {
        case .listed(let resource, let listed):
            var fresh: [String: WatchedObject] = [:]
            for object in listed { fresh[object.key] = object }
            defer { objects[resource] = fresh }
            return objects[resource] != fresh
        case .changed(let resource, .deleted, let object):
            return objects[resource, default: [:]].removeValue(forKey: object.key) != nil
        case .changed(let resource, _, let object):
            guard objects[resource]?[object.key] != object else { return false }
            objects[resource, default: [:]][object.key] = object
            return true
        case .retrying, .expired:
            return false
        }
    }

    /// One `KindList` JSON text per resource, objects sorted by key, with its location.
    public var texts: [(text: String, file: String)] {
        resources.map { resource in
            let items = (objects[resource] ?? [:]).values.sorted { $0.key < $1.key }.map(\.json)
            let text =
                #"{"apiVersion":"\#(resource.apiVersion)","kind":"\#(resource.kind)List","items":["#
                + items.joined(separator: ",") + "]}"
            return (text, origin + resource.path)
        }
    }
}
