import GatehouseCore

/// The parts of `metadata` the engine uses.
struct ObjectMetadata {
    let name: String
    let namespace: String?
    let labels: Labels

    static let knownFields: Set<String> = [
        "name", "namespace", "labels", "annotations", "uid", "resourceVersion", "generation", "creationTimestamp",
        "managedFields", "ownerReferences", "finalizers", "generateName", "selfLink", "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ]
}
