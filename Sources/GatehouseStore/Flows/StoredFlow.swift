import GatehouseCore

/// A flow as the store keeps it: its row id (increasing, so `--follow` can ask for what came after)
/// and the record.
public struct StoredFlow: Sendable, Hashable {
    public let id: Int64
    public let flow: FlowRecord

    public init(id: Int64, flow: FlowRecord) {
        self.id = id
        self.flow = flow
    }
}
