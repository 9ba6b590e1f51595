import GatehouseCore
import GatehousePolicy

extension GatewayConfiguration {
    /// `prices:` — a price per model name, and `default` for models nothing else prices.
    mutating func readPrices(_ field: Field) throws(ResourceError) {
        guard case .mapping(let pairs) = field.value.content else {
            throw field.error(.wrongType, "expected a mapping of model names to prices")
        }
        for (name, value) in pairs {
            let price = try field.child(value, key: name).modelPrice()
            if name == "default" { defaultPrice = price } else { prices[name] = price }
        }
    }
}

extension Field {
    /// `{input: 2.50, output: 10}`: dollars per million tokens.
    func modelPrice() throws(ResourceError) -> ModelPrice {
        let object = try object(known: ["input", "output"])
        return ModelPrice(
            input: try object.required("input").dollars(),
            output: try object.required("output").dollars()
        )
    }

    /// A dollar amount such as `100`, `2.50` or `0.000150`.
    func dollars() throws(ResourceError) -> Cost {
        let text = try string()
        guard let cost = Cost(dollars: text) else {
            throw error(
                .invalidValue,
                "expected a dollar amount such as 100, 2.50 or 0.0015, found \"\(text.prefix(40))\""
            )
        }
        return cost
    }

    func positive(atMost bound: Int) throws(ResourceError) -> Int {
        let value = try int()
        guard (1...bound).contains(value) else { throw error(.invalidValue, "must be 1 to \(bound)") }
        return value
    }

    func quota() throws(ResourceError) -> Quota {
        let object = try object(known: [
            "name", "selector", "per", "requestsPerMinute", "tokensPerMinute", "countTokens", "maxConcurrent",
            "maxTokens", "maxN", "maxMessages", "maxTools", "maxEmbeddingInputs", "maxBodyBytes", "budget",
        ])
        var quota = Quota(
            name: try object.required("name").name(),
            selector: try object.required("selector").calicoSelector()
        )
        if let field = object["per"] {
            let text = try field.string()
            guard let scope = Quota.Scope(rawValue: text) else {
                throw field.error(.invalidValue, "expected group or identity, found \"\(text.prefix(40))\"")
            }
            quota.per = scope
        }
        if let field = object["countTokens"] {
            let text = try field.string()
            guard let counted = Quota.CountedTokens(rawValue: text) else {
                throw field.error(.invalidValue, "expected input, output or total, found \"\(text.prefix(40))\"")
            }
            quota.countedTokens = counted
        }
        let bound = 1_000_000_000
        if let field = object["requestsPerMinute"] { quota.requestsPerMinute = try field.positive(atMost: bound) }
        if let field = object["tokensPerMinute"] { quota.tokensPerMinute = try field.positive(atMost: bound) }
        if let field = object["maxConcurrent"] { quota.maxConcurrent = try field.positive(atMost: 1_000_000) }
        if let field = object["maxTokens"] { quota.caps.maxTokens = try field.positive(atMost: bound) }
        if let field = object["maxN"] { quota.caps.maxN = try field.positive(atMost: 128) }
        if let field = object["maxMessages"] { quota.caps.maxMessages = try field.positive(atMost: bound) }
        if let field = object["maxTools"] { quota.caps.maxTools = try field.positive(atMost: bound) }
        if let field = object["maxEmbeddingInputs"] {
            quota.caps.maxEmbeddingInputs = try field.positive(atMost: bound)
        }
        if let field = object["maxBodyBytes"] { quota.caps.maxBodyBytes = try field.byteCount() }
        if let budget = try object["budget"]?.object(known: ["usd", "period"]) {
            quota.budget = try budget.required("usd").dollars()
            if let field = budget["period"] {
                let text = try field.string()
                guard let period = BudgetPeriod(rawValue: text) else {
                    throw field.error(.invalidValue, "expected day, week, month or total, found \"\(text.prefix(40))\"")
                }
                quota.budgetPeriod = period
            }
        }
        return quota
    }
}
