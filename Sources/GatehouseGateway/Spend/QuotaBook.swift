import Foundation
import GatehouseCore
import NIOCore
import Synchronization

/// Quotas' rates and concurrency: request and token allowances and concurrency counts per scope,
/// checked and taken all-or-none for every quota that applies to a request. Budgets are the
/// ledger's (`SpendLedger`); this book holds what a minute renews.
///
/// A limit of L a minute admits at most L in any 60 seconds (`WindowAllowance`). One gateway keeps its
/// allowances in memory; gateways sharing a PostgreSQL store share them (`SharedAllowances`), so the
/// limit holds for the group however its requests are spread over the replicas.
final class QuotaBook: Sendable {
    /// One allowance holder: a quota, and the identity for `per: identity` (empty for a group).
    struct ScopeKey: Hashable, Sendable {
        let quota: String
        let identity: String

        /// The name the store knows the scope by (budgets name theirs the same way).
        var stored: String { identity.isEmpty ? quota : "\(quota)/\(identity)" }
    }

    /// What one applicable quota asks of a request.
    struct Demand: Sendable {
        let scope: ScopeKey
        let quota: Quota
    }

    /// A request's hold on the book, returned by `admit` and given back to `finish`.
    struct Hold: Sendable {
        let demands: [Demand]
        let chargedTokens: [Double]
        /// Where each demand's tokens were taken, to be trued up there when the request ends: an entry of
        /// a window in memory, or a shared grant's row in the store (nil: no tokens were charged).
        let tokenMarks: [Int64?]
        /// Headers describing the tightest allowances after admission (`x-ratelimit-*`).
        let headers: [(String, String)]
    }

    enum Admission: Sendable {
        case admitted(Hold)
        /// Refused: the limit's description, seconds to wait, and headers for the answer.
        case refused(limit: String, retryAfter: Int, headers: [(String, String)])
        /// The shared allowances' store could not be reached: nothing is admitted unaccounted.
        case unavailable
    }

    /// What one allowance shows the caller: `x-ratelimit-limit`, `-remaining` and `-reset`.
    struct View: Sendable {
        let capacity: Double
        let remaining: Int
        let secondsToReset: Double
    }

    private struct Entry {
        var requests: WindowAllowance?
        var tokens: WindowAllowance?
        var active = 0
    }

    private let entries = Mutex<[ScopeKey: Entry]>([:])
    private let clock: @Sendable () -> Double
    private let shared: SharedAllowances?

    /// - Parameter shared: the store's allowances, when replicas share them; nil keeps them in memory.
    init(clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }, shared: SharedAllowances? = nil) {
        self.clock = clock
        self.shared = shared
    }

    /// Checks every demand and, when all allow the request, takes one request, `tokens(quota)` tokens and
    /// one concurrency slot from each. Answered at once unless shared allowances must ask the store.
    func admit(
        _ demands: [Demand],
        tokens: (Quota) -> Int,
        on eventLoop: any EventLoop
    ) -> Eventual<Admission> {
        guard !demands.isEmpty else {
            return .now(.admitted(Hold(demands: [], chargedTokens: [], tokenMarks: [], headers: [])))
        }
        let charged = demands.map { Double(tokens($0.quota)) }
        if let shared { return shared.admit(demands, charged: charged, on: eventLoop) }
        return .now(admitInMemory(demands, charged: charged))
    }

    private func admitInMemory(_ demands: [Demand], charged: [Double]) -> Admission {
        let now = clock()
        // The headers are written after the lock is let go: only the entries' copies are needed.
        let (current, marks, refusal) = entries.withLock { table -> ([Entry], [Int64?], (String, Double)?) in
            // Each demand's entry is looked up once and stored back once (quota names are unique, so
            // a request's scopes are too).
            var current = demands.map { demand in
                var entry = Self.entry(for: demand, in: table)
                entry.requests?.expire(now: now)
                entry.tokens?.expire(now: now)
                return entry
            }
            var refusal: (String, Double)?
            for (index, demand) in demands.enumerated() {
                let entry = current[index]
                refusal =
                    refusal
                    ?? Self.refusal(
                        demand,
                        concurrencyFull: demand.quota.maxConcurrent.map { entry.active >= $0 } ?? false,
                        requestsWait: entry.requests?.wait(for: 1, now: now) ?? 0,
                        tokensWait: entry.tokens?.wait(for: charged[index], now: now) ?? 0,
                        tokens: charged[index]
                    )
            }
            var marks: [Int64?] = []
            if refusal == nil {
                for index in current.indices {
                    current[index].requests?.take(1, now: now)
                    marks.append(charged[index] > 0 ? current[index].tokens?.take(charged[index], now: now) : nil)
                    current[index].active += 1
                }
            }
            for (demand, entry) in zip(demands, current) { table[demand.scope] = entry }
            return (current, marks, refusal)
        }
        let views = current.map { entry in
            (
                entry.requests.map { Self.view($0, now: now) },
                entry.tokens.map { Self.view($0, now: now) }
            )
        }
        let headers = Self.headers(requests: views.compactMap(\.0), tokens: views.compactMap(\.1))
        if let (limit, wait) = refusal {
            return .refused(limit: limit, retryAfter: Self.retryAfter(wait), headers: headers)
        }
        return .admitted(Hold(demands: demands, chargedTokens: charged, tokenMarks: marks, headers: headers))
    }

    /// The request is over: frees its concurrency slots and trues up its token charge with what it used.
    func finish(_ hold: Hold, usage: TokenUsage?) {
        guard !hold.demands.isEmpty else { return }
        let used = hold.demands.map { demand -> Double? in
            guard let usage else { return nil }
            switch demand.quota.countedTokens {
            case .input: return Double(usage.input)
            case .output: return Double(usage.output)
            case .total: return Double(usage.total)
            }
        }
        if let shared {
            shared.finish(hold, used: used)
            return
        }
        entries.withLock { table in
            for index in hold.demands.indices {
                guard let slot = table.index(forKey: hold.demands[index].scope) else { continue }
                table.values[slot].active -= 1
                guard let used = used[index], let mark = hold.tokenMarks[index] else { continue }
                table.values[slot].tokens?.adjust(mark, by: hold.chargedTokens[index] - used)
            }
        }
    }

    /// The first limit `demand` finds reached, with seconds to wait: concurrency, then requests, then
    /// tokens.
    static func refusal(
        _ demand: Demand,
        concurrencyFull: Bool,
        requestsWait: Double,
        tokensWait: Double,
        tokens: Double
    ) -> (String, Double)? {
        let quota = demand.quota
        if concurrencyFull, let max = quota.maxConcurrent {
            return ("\(max) concurrent requests (quota \(quota.name))", 1)
        }
        if requestsWait > 0 {
            return ("\(quota.requestsPerMinute ?? 0) requests per minute (quota \(quota.name))", requestsWait)
        }
        if tokensWait.isInfinite {
            return (
                "\(quota.tokensPerMinute ?? 0) tokens per minute (quota \(quota.name)), and this request alone is "
                    + "charged \(Int(tokens)): lower max_tokens or the prompt", WindowAllowance.minute
            )
        }
        if tokensWait > 0 {
            return ("\(quota.tokensPerMinute ?? 0) tokens per minute (quota \(quota.name))", tokensWait)
        }
        return nil
    }

    /// Whole seconds for `Retry-After`, at least one.
    static func retryAfter(_ wait: Double) -> Int { max(Int(min(wait, 3600).rounded(.up)), 1) }

    /// `demand`'s entry, its capacities as the quota has them now (a reload may have changed them; what
    /// was taken in the window stays counted).
    private static func entry(for demand: Demand, in table: [ScopeKey: Entry]) -> Entry {
        var entry = table[demand.scope] ?? Entry()
        entry.requests = current(entry.requests, capacity: demand.quota.requestsPerMinute)
        entry.tokens = current(entry.tokens, capacity: demand.quota.tokensPerMinute)
        return entry
    }

    private static func current(_ allowance: WindowAllowance?, capacity: Int?) -> WindowAllowance? {
        guard let capacity else { return nil }
        guard var allowance else { return WindowAllowance(capacity: capacity) }
        allowance.capacity = Double(capacity)
        return allowance
    }

    private static func view(_ allowance: WindowAllowance, now: Double) -> View {
        View(
            capacity: allowance.capacity,
            remaining: allowance.remaining,
            secondsToReset: allowance.secondsToEmpty(now: now)
        )
    }

    /// The names of one kind's `x-ratelimit-*` headers.
    private struct HeaderNames {
        let limit: String
        let remaining: String
        let reset: String

        init(_ kind: String) {
            limit = "x-ratelimit-limit-\(kind)"
            remaining = "x-ratelimit-remaining-\(kind)"
            reset = "x-ratelimit-reset-\(kind)"
        }
    }

    private static let requestHeaders = HeaderNames("requests")
    private static let tokenHeaders = HeaderNames("tokens")

    /// OpenAI's `x-ratelimit-*` headers for the tightest request and token allowances.
    static func headers(requests: [View], tokens: [View]) -> [(String, String)] {
        var headers: [(String, String)] = []
        headers.reserveCapacity(6)
        let byRemaining: (View, View) -> Bool = { $0.remaining < $1.remaining }
        append(requests.min(by: byRemaining), requestHeaders, to: &headers)
        append(tokens.min(by: byRemaining), tokenHeaders, to: &headers)
        return headers
    }

    private static func append(_ tightest: View?, _ names: HeaderNames, to headers: inout [(String, String)]) {
        guard let tightest else { return }
        headers.append((names.limit, String(Int(tightest.capacity))))
        headers.append((names.remaining, String(tightest.remaining)))
        headers.append((names.reset, String(Int(tightest.secondsToReset.rounded(.up))) + "s"))
    }
}
