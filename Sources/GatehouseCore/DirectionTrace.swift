/// The trace of one direction of a flow (the source's egress or the destination's ingress), with what
/// the staged policies would have decided when any of them applies.
public struct DirectionTrace: Sendable, Hashable, Codable {
    public let direction: TrafficDirection
    public let endpoint: String
    public let enforced: Evaluation
    /// The evaluation with staged policies in force; nil when no staged policy applies.
    public let staged: Evaluation?

    public init(direction: TrafficDirection, endpoint: String, enforced: Evaluation, staged: Evaluation?) {
        self.direction = direction
        self.endpoint = endpoint
        self.enforced = enforced
        self.staged = staged
    }

    public var verdict: Verdict { enforced.verdict }
}
