import GatehouseCore

/// Which stored flows to read: those `filter` matches, the newest `limit` of them (listed oldest
/// first), or, with `after`, the oldest `limit` stored after that row id (for following).
public struct FlowQuery: Sendable, Hashable {
    public var filter = FlowFilter()
    public var limit: Int = 100
    public var after: Int64?

    public init(filter: FlowFilter = FlowFilter(), limit: Int = 100, after: Int64? = nil) {
        self.filter = filter
        self.limit = limit
        self.after = after
    }
}
