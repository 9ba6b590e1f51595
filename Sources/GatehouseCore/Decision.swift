/// A verdict for one flow with the trace of both directions: allowed only if both allow.
public struct Decision: Sendable, Hashable, Codable {
    public let source: String
    public let destination: String
    public let `protocol`: String
    public let port: UInt16
    public let sourcePort: UInt16?
    public let verdict: Verdict
    /// What the verdict would be with staged policies in force.
    public let stagedVerdict: Verdict
    public let egress: DirectionTrace
    public let ingress: DirectionTrace

    public init(
        source: String,
        destination: String,
        protocol: IPProtocol,
        port: UInt16,
        sourcePort: UInt16?,
        egress: DirectionTrace,
        ingress: DirectionTrace
    ) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`.description
        self.port = port
        self.sourcePort = sourcePort
        self.egress = egress
        self.ingress = ingress
        self.verdict = egress.verdict == .allow && ingress.verdict == .allow ? .allow : .deny
        let stagedEgress = egress.staged?.verdict ?? egress.verdict
        let stagedIngress = ingress.staged?.verdict ?? ingress.verdict
        self.stagedVerdict = stagedEgress == .allow && stagedIngress == .allow ? .allow : .deny
    }
}
