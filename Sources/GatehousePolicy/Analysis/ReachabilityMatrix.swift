import GatehouseCore

/// The truth table of one port and protocol: for every pair of endpoints (pods, then listed external
/// addresses), whether a new connection is allowed. One bit per pair.
public struct ReachabilityMatrix: Sendable {
    public let endpoints: [FlowEndpoint]
    public let names: [String]
    public let `protocol`: IPProtocol
    public let port: UInt16
    private let bits: BitSet

    public init(engine: PolicyEngine, port: UInt16, protocol: IPProtocol, staged: Bool = false) {
        let endpoints = engine.matrixEndpoints
        self.endpoints = endpoints
        self.names = endpoints.map { engine.name(of: $0) }
        self.protocol = `protocol`
        self.port = port
        let count = endpoints.count
        var bits = BitSet(count: count * count)
        for (row, source) in endpoints.enumerated() {
            for (column, destination) in endpoints.enumerated() {
                let flow = Flow(source: source, destination: destination, protocol: `protocol`, port: port)
                if engine.allows(flow, staged: staged) { bits.insert(row * count + column) }
            }
        }
        self.bits = bits
    }

    /// Whether `endpoints[row]` may open a connection to `endpoints[column]`.
    public func allows(row: Int, column: Int) -> Bool { bits.contains(row * endpoints.count + column) }

    /// The number of allowed pairs, the diagonal included.
    public var allowedCount: Int { bits.cardinality }
}
