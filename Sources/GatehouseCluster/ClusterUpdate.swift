/// What a watch of the cluster saw.
public enum ClusterUpdate: Sendable {
    public enum Change: String, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
    }

    /// Every object of one resource: its first list, or a list after 410 Gone.
    case listed(APIResource, [WatchedObject])
    /// One object added, changed or deleted.
    case changed(APIResource, Change, WatchedObject)
    /// A list or watch failed and will be tried again after `retryIn`.
    case retrying(APIResource, ClusterError, retryIn: Duration)
    /// 410 Gone: the watch's resourceVersion left the server's window; the resource is listed again, and
    /// that list follows as `.listed`.
    case expired(APIResource, ClusterError)
}
