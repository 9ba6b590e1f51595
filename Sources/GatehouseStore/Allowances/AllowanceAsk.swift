/// What a gateway asks of an allowance its replicas share (`Store.shareAllowances`): at least
/// `needed`, and as much as `wanted` when the allowance can spare it.
public struct AllowanceAsk: Sendable, Equatable {
    public enum Kind: String, Sendable, Hashable {
        /// Requests in any window (a `WindowAllowance`).
        case requests
        /// Tokens in any window (a `WindowAllowance`).
        case tokens
        /// Requests in flight at once, over every live gateway.
        case concurrent
    }

    /// The allowance's holder: a quota, and the identity for a quota per identity.
    public let scope: String
    public let kind: Kind
    public let capacity: Double
    public let needed: Double
    public let wanted: Double

    public init(scope: String, kind: Kind, capacity: Double, needed: Double, wanted: Double) {
        self.scope = scope
        self.kind = kind
        self.capacity = capacity
        self.needed = needed
        self.wanted = max(wanted, needed)
    }
}
