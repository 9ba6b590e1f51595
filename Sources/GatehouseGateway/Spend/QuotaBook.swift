import Foundation
import GatehouseCore
import NIOHTTP1
import Synchronization

/// The in-memory side of quotas: request and token allowances and concurrency counts per scope,
/// checked and taken all-or-none for every quota that applies to a request. Budgets are the
/// ledger's (`SpendLedger`); this book holds what resets within a minute.
final class QuotaBook: Sendable {
    /// One allowance holder: a quota, and the identity for `per: identity` (empty for a group).
    struct ScopeKey: Hashable, Sendable {
        let quota: String
        let identity: String
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
        /// Headers describing the tightest allowances after admission (`x-ratelimit-*`).
        let headers: [(String, String)]
    }

    enum Admission: Sendable {
        case admitted(Hold)
        /// Refused: the limit's description, seconds to wait, and headers for the answer.
        case refused(limit: String, retryAfter: Int, headers: [(String, String)])
    }

    private struct Entry {
        var requests: Allowance?
        var tokens: Allowance?
        var active = 0
    }

    private let entries = Mutex<[ScopeKey: Entry]>([:])
    private let clock: @Sendable () -> Double

    init(clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.clock = clock
    }

    /// Checks every demand and, when all allow the request, takes one request, `tokens(quota)` tokens and
    /// one concurrency slot from each.
    func admit(_ demands: [Demand], tokens: (Quota) -> Int) -> Admission {
        guard !demands.isEmpty else { return .admitted(Hold(demands: [], chargedTokens: [], headers: [])) }
        let now = clock()
        let charged = demands.map { Double(tokens($0.quota)) }
        // The headers are written after the lock is let go: only the entries' copies are needed.
        let (current, refusal) = entries.withLock { table -> ([Entry], (String, Double)?) in
            // Each demand's entry is looked up once and stored back once (quota names are unique, so
            // a request's scopes are too).
            var current = demands.map { demand in
                var entry = Self.entry(for: demand, in: table, now: now)
                entry.requests?.refill(now: now)
                entry.tokens?.refill(now: now)
                return entry
            }
            var refusal: (String, Double)?
            for (index, demand) in demands.enumerated() {
                let entry = current[index]
                let name = demand.quota.name
                if let max = demand.quota.maxConcurrent, entry.active >= max {
                    refusal = refusal ?? ("\(max) concurrent requests (quota \(name))", 1)
                }
                if let wait = entry.requests.map({ $0.wait(for: 1) }), wait > 0 {
                    refusal =
                        refusal ?? ("\(demand.quota.requestsPerMinute ?? 0) requests per minute (quota \(name))", wait)
                }
                if let wait = entry.tokens.map({ $0.wait(for: charged[index]) }), wait > 0 {
                    refusal =
                        refusal ?? ("\(demand.quota.tokensPerMinute ?? 0) tokens per minute (quota \(name))", wait)
                }
            }
            if refusal == nil {
                for index in current.indices {
                    current[index].requests?.take(1)
                    current[index].tokens?.take(charged[index])
                    current[index].active += 1
                }
            }
            for (demand, entry) in zip(demands, current) { table[demand.scope] = entry }
            return (current, refusal)
        }
        if let (limit, wait) = refusal {
            return .refused(limit: limit, retryAfter: max(Int(wait.rounded(.up)), 1), headers: Self.headers(current))
        }
        return .admitted(Hold(demands: demands, chargedTokens: charged, headers: Self.headers(current)))
    }

    /// The request is over: frees its concurrency slots and trues up its token charge with what it used.
    func finish(_ hold: Hold, usage: TokenUsage?) {
        guard !hold.demands.isEmpty else { return }
        entries.withLock { table in
            for (demand, charged) in zip(hold.demands, hold.chargedTokens) {
                guard let slot = table.index(forKey: demand.scope) else { continue }
                table.values[slot].active -= 1
                guard let usage else { continue }
                let used: Int
                switch demand.quota.countedTokens {
                case .input: used = usage.input
                case .output: used = usage.output
                case .total: used = usage.total
                }
                table.values[slot].tokens?.adjust(by: charged - Double(used))
            }
        }
    }

    private static func entry(for demand: Demand, in table: [ScopeKey: Entry], now: Double) -> Entry {
        if let entry = table[demand.scope] { return entry }
        var entry = Entry()
        entry.requests = demand.quota.requestsPerMinute.map { Allowance(capacity: $0, now: now) }
        entry.tokens = demand.quota.tokensPerMinute.map { Allowance(capacity: $0, now: now) }
        return entry
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
    private static func headers(_ entries: [Entry]) -> [(String, String)] {
        var headers: [(String, String)] = []
        headers.reserveCapacity(6)
        let byRemaining: (Allowance, Allowance) -> Bool = { $0.remaining < $1.remaining }
        append(entries.lazy.compactMap(\.requests).min(by: byRemaining), requestHeaders, to: &headers)
        append(entries.lazy.compactMap(\.tokens).min(by: byRemaining), tokenHeaders, to: &headers)
        return headers
    }

    private static func append(_ tightest: Allowance?, _ names: HeaderNames, to headers: inout [(String, String)]) {
        guard let tightest else { return }
        headers.append((names.limit, String(Int(tightest.capacity))))
        headers.append((names.remaining, String(tightest.remaining)))
        headers.append((names.reset, String(Int(tightest.secondsToFull.rounded(.up))) + "s"))
    }
}
