import GatehouseCore

/// A model callers may name, and the upstreams that serve it, tried in order.
public struct ModelRoute: Sendable, Hashable {
    public var name: String
    public var aliases: [String]
    public var labels: Labels
    public var upstreams: [UpstreamSettings]
    /// The path a health check requests on each upstream (GET, 2xx healthy).
    public var healthCheckPath: String = "/v1/models"
    public var healthCheckInterval: Duration = .seconds(10)
    /// Its price; nil uses `prices:` or the list price of a model of that name.
    public var price: ModelPrice?
    /// The output a request without `max_tokens` is assumed to ask for at most (budget reservations).
    public var maxOutputTokens = 4096
    /// The field in which chat requests that set no bound are sent `maxOutputTokens`.
    public var maxTokensField: MaxTokensField = .maxTokens

    /// `max_tokens` is what vLLM, Ollama, llama.cpp and most servers read; OpenAI's reasoning models
    /// refuse it and read only `max_completion_tokens`.
    public enum MaxTokensField: String, Sendable, Hashable, CaseIterable {
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
    }

    public init(name: String, aliases: [String] = [], labels: Labels = [:], upstreams: [UpstreamSettings]) {
        self.name = name
        self.aliases = aliases
        self.labels = labels
        self.upstreams = upstreams
    }
}
