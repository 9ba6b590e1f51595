import Foundation
import GatehouseCore

/// Which audit records to list: every filter given must match.
public struct AuditQuery: Sendable, Hashable {
    public var identity: String?
    public var model: String?
    public var decision: Verdict?
    public var since: Date?
    public var until: Date?
    /// The newest `limit` records, listed oldest first.
    public var limit: Int = 100

    public init() {}
}
