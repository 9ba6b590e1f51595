import GatehouseCore

/// What a model costs: US dollars per million input and per million output tokens.
public struct ModelPrice: Sendable, Hashable {
    public var input: Cost
    public var output: Cost

    public init(input: Cost, output: Cost) {
        self.input = input
        self.output = output
    }

    public static let free = ModelPrice(input: .zero, output: .zero)

    /// The cost of `usage`.
    public func cost(of usage: TokenUsage) -> Cost {
        Cost.of(tokens: usage.input, pricePerMillion: input) + Cost.of(tokens: usage.output, pricePerMillion: output)
    }

    /// Published list prices (USD per million tokens) for common hosted models, used when the
    /// configuration names no price for a model of that name; `prices:` in the configuration overrides them.
    public static let listPrices: [String: ModelPrice] = [
        "gpt-4o": .init(dollars: "2.50", "10.00"),
        "gpt-4o-mini": .init(dollars: "0.15", "0.60"),
        "gpt-4.1": .init(dollars: "2.00", "8.00"),
        "gpt-4.1-mini": .init(dollars: "0.40", "1.60"),
        "gpt-4.1-nano": .init(dollars: "0.10", "0.40"),
        "o3-mini": .init(dollars: "1.10", "4.40"),
        "text-embedding-3-small": .init(dollars: "0.02", "0"),
        "text-embedding-3-large": .init(dollars: "0.13", "0"),
    ]

    private init(dollars input: String, _ output: String) {
        self.init(input: Cost(dollars: input)!, output: Cost(dollars: output)!)
    }
}
