/// The store's answer to an `AllowanceAsk`.
public struct AllowanceGrant: Sendable, Equatable {
    /// What the gateway may take: 0 when not even what it needed was free.
    public let granted: Double
    /// The stored row a window's grant is counted in: what the gateway does not use goes back to it.
    public let row: Int64?
    /// What the allowance had left after the grant, over every gateway.
    public let available: Double
    /// Seconds until what was needed may be free, when nothing was granted.
    public let wait: Double
    /// Seconds until everything taken has left the window.
    public let secondsToEmpty: Double

    public init(granted: Double, row: Int64?, available: Double, wait: Double, secondsToEmpty: Double) {
        self.granted = granted
        self.row = row
        self.available = available
        self.wait = wait
        self.secondsToEmpty = secondsToEmpty
    }
}
