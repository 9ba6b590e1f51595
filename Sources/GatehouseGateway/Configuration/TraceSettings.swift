/// `telemetry.otlp:` in gatehouse.yaml: where spans go over OTLP/HTTP (protobuf), which share of new
/// traces is kept, and whether prompts and answers may appear in them. Read again on every reload.
public struct TraceSettings: Sendable, Hashable {
    /// `http://collector:4318/v1/traces`; a URL with no path gets OTLP's `/v1/traces`.
    public var endpoint: String
    /// The share of traces started here that is sampled, 0 to 1; a caller's `traceparent` decides its own.
    public var sampling = 1.0
    /// Whether spans may carry the request's body (`gen_ai.input.messages`). Off: no prompt, answer,
    /// key or token is ever in a span.
    public var captureContent = false
    public var serviceName = "gatehouse"

    public init(endpoint: String) {
        self.endpoint = endpoint
    }
}
