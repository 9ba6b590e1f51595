/// `flows:` in gatehouse.yaml: whether the gateway writes a flow record for every request, the
/// aggregation bucket, and how long stored flows are kept. Bucket and retention are read at start.
public struct FlowSettings: Sendable, Hashable {
    public var enabled = true
    public var bucket: Duration = .seconds(15)
    public var retention: Duration = .seconds(7 * 86_400)

    public init() {}
}
