import GatehouseCore
import GatehouseStore
import NIOCore

/// What the quotas that apply to one request ask of it: caps to check, allowances to take, budgets
/// to reserve against, and the most the request can cost.
struct SpendPlan: Sendable {
    let quotas: [Quota]
    let demands: [QuotaBook.Demand]
    let budgets: [BudgetCharge]
    let price: ModelPrice
    /// A sound upper bound of the prompt's tokens: one per body byte (every BPE token covers at least
    /// one byte, and the JSON around the messages outweighs the chat template's tokens).
    let inputBound: Int
    /// The request body, counted only when something needs the prompt's tokens.
    private let body: ByteBufferView
    let route: DataPlane.Route
    /// The output each choice is bounded to: what the caller asked for, or the model's cap. The
    /// gateway forwards this bound, so the upstream must keep to what was reserved.
    let outputPerChoice: Int
    /// The most output the request can produce: `outputPerChoice` for every choice generated.
    let outputBound: Int

    init(
        identity: Identity,
        model: ModelRuntime,
        route: DataPlane.Route,
        inspected: RequestInspector.Inspected,
        body: ByteBufferView,
        quotas configured: [Quota]
    ) {
        var quotas = configured.filter { $0.selector.matches(identity.labels) }
        let key = identity.keyQuota
        if !key.isEmpty {
            var quota = Quota(name: "key", selector: .all)
            quota.per = .identity
            quota.requestsPerMinute = key.requestsPerMinute
            quota.tokensPerMinute = key.tokensPerMinute
            quota.maxConcurrent = key.maxConcurrent
            quota.budget = key.budget
            quota.budgetPeriod = key.budgetPeriod ?? .month
            quotas.append(quota)
        }
        self.quotas = quotas
        demands = quotas.filter { $0.requestsPerMinute != nil || $0.tokensPerMinute != nil || $0.maxConcurrent != nil }
            .map { quota in
                QuotaBook.Demand(
                    scope: QuotaBook.ScopeKey(quota: quota.name, identity: quota.per == .identity ? identity.name : ""),
                    quota: quota
                )
            }
        budgets = quotas.compactMap { quota in
            guard let limit = quota.budget else { return nil }
            let scope = quota.per == .identity ? "\(quota.name)/\(identity.name)" : quota.name
            return BudgetCharge(scope: scope, period: quota.budgetPeriod, limit: limit)
        }
        price = model.price
        inputBound = body.count
        self.body = body
        let requested = inspected.requestedOutput(on: route)
        outputPerChoice = route == .embeddings ? 0 : requested ?? model.route.maxOutputTokens
        // Saturating: prompts are bounded only by the body's size. A bound this large fits no budget.
        let (product, overflow) = outputPerChoice.multipliedReportingOverflow(by: inspected.generatedChoices(on: route))
        outputBound = overflow ? Self.largestOutputBound : min(product, Self.largestOutputBound)
        self.route = route
    }

    /// Far beyond any budget, and far enough from `Int.max` that the prompt's bound can be added to it.
    static let largestOutputBound = 1 << 60

    /// The most the request can cost: the reservation held until it is settled.
    var worstCase: Cost { price.cost(of: TokenUsage(input: inputBound, output: outputBound, estimated: true)) }

    /// The prompt's tokens as `TokenEstimator` counts them, for accounting without reported usage.
    var promptEstimate: Int {
        body.withContiguousStorageIfAvailable { TokenEstimator.count($0) } ?? TokenEstimator.count(body)
    }

    /// The tokens each quota's per-minute allowance is charged at admission (trued up when usage is
    /// known); the prompt is counted only when a quota counts it.
    func admissionTokens() -> (Quota) -> Int {
        let countsPrompt = demands.contains { $0.quota.tokensPerMinute != nil && $0.quota.countedTokens != .output }
        let prompt = countsPrompt ? promptEstimate : 0
        let output = outputBound
        return { quota in
            switch quota.countedTokens {
            case .input: prompt
            case .output: output
            case .total: prompt + output
            }
        }
    }

    /// The first cap the request exceeds, as the error to answer with.
    func exceededCap(inspected: RequestInspector.Inspected, bodyBytes: Int) -> GatewayError? {
        for quota in quotas {
            let caps = quota.caps
            let checks: [(String, Int?, Int?)] = [
                ("max_tokens", inspected.requestedOutput(on: route), caps.maxTokens), ("n", inspected.n, caps.maxN),
                ("the number of messages", inspected.messages, caps.maxMessages),
                ("the number of tools", inspected.tools, caps.maxTools),
                ("the number of embedding inputs", inspected.inputs, caps.maxEmbeddingInputs),
                ("the body size in bytes", bodyBytes, caps.maxBodyBytes),
            ]
            for case (let field, let asked?, let cap?) in checks where asked > cap {
                return .capExceeded(field, asked: asked, cap: cap, quota: quota.name)
            }
            if let cap = caps.maxTokens, inspected.requestedOutput(on: route) == nil, outputPerChoice > cap {
                return .badRequest(
                    .limitExceeded,
                    "quota \(quota.name) allows at most \(cap) output tokens: set max_tokens to \(cap) or less"
                )
            }
        }
        return nil
    }
}
