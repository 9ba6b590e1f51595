/// Bounds on what one request may ask for, checked before anything is forwarded.
public struct RequestCaps: Sendable, Hashable {
    public var maxTokens: Int?
    public var maxN: Int?
    public var maxMessages: Int?
    public var maxTools: Int?
    public var maxEmbeddingInputs: Int?
    public var maxBodyBytes: Int?

    public init() {}
}
