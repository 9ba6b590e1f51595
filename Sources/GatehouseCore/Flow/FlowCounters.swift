/// What a flow carried, summed when flows are aggregated. Network flows count connections as
/// `requests` and carry packets and bytes; gateway flows count requests and carry bytes, tokens and cost.
public struct FlowCounters: Sendable, Hashable, Codable {
    public var requests: Int64
    public var packetsIn: Int64
    public var packetsOut: Int64
    public var bytesIn: Int64
    public var bytesOut: Int64
    public var tokensIn: Int64
    public var tokensOut: Int64
    public var cost: Cost
    /// Total and longest duration of the requests, in microseconds.
    public var durationMicroseconds: Int64
    public var maximumDurationMicroseconds: Int64

    public init(
        requests: Int64 = 1,
        packetsIn: Int64 = 0,
        packetsOut: Int64 = 0,
        bytesIn: Int64 = 0,
        bytesOut: Int64 = 0,
        tokensIn: Int64 = 0,
        tokensOut: Int64 = 0,
        cost: Cost = .zero,
        durationMicroseconds: Int64 = 0
    ) {
        self.requests = requests
        self.packetsIn = packetsIn
        self.packetsOut = packetsOut
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cost = cost
        self.durationMicroseconds = durationMicroseconds
        self.maximumDurationMicroseconds = durationMicroseconds
    }

    /// Adds `other` in: sums, and the longer of the two longest durations.
    public mutating func add(_ other: FlowCounters) {
        requests &+= other.requests
        packetsIn &+= other.packetsIn
        packetsOut &+= other.packetsOut
        bytesIn &+= other.bytesIn
        bytesOut &+= other.bytesOut
        tokensIn &+= other.tokensIn
        tokensOut &+= other.tokensOut
        cost = cost + other.cost
        durationMicroseconds &+= other.durationMicroseconds
        maximumDurationMicroseconds = max(maximumDurationMicroseconds, other.maximumDurationMicroseconds)
    }
}
