/// What a staged policy proposes (`spec.stagedAction`). `Delete` policies are not evaluated (Calico's staged
/// update processor drops them); Learn and Ignore are evaluated like Set, as open-source Felix does.
public enum StagedAction: String, Sendable, Hashable, Codable {
    case set = "Set"
    case delete = "Delete"
    case learn = "Learn"
    case ignore = "Ignore"
}
