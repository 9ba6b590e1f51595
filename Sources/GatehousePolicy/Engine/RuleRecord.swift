import GatehouseCore

/// A rule flattened for the hot path: every reference is an index into the engine's tables.
struct RuleRecord: Sendable {
    let policy: Int32
    let index: Int32
    let action: RuleAction
    /// 0 for any family, else 4 or 6.
    let ipVersion: UInt8
    /// The rule's protocol and destination-port criteria as a set of port classes (index into the mask table).
    let classMask: Int32
    /// -1 when any endpoint matches; else an index into the peer tables.
    let sourcePeers: Int32
    let destinationPeers: Int32
    /// Source ports or named destination ports: checked against the full entities in `RuleDetail`.
    let slowPorts: Bool
}
