/// Tokens one request used: as the upstream reported them, or counted by the gateway when it did not.
public struct TokenUsage: Sendable, Hashable, Codable {
    public var input: Int
    public var output: Int
    /// True when the gateway counted (see `TokenEstimator`) rather than the upstream reporting.
    public var estimated: Bool

    public init(input: Int, output: Int, estimated: Bool) {
        self.input = input
        self.output = output
        self.estimated = estimated
    }

    public var total: Int { input + output }
}
