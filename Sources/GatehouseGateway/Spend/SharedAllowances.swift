import Dispatch
import GatehouseCore
import GatehouseStore
import NIOCore
import Synchronization

/// Quotas' rates and concurrency shared by the gateways on one PostgreSQL store
/// (`Store.shareAllowances`).
///
/// A gateway admits in memory out of grants: an amount of a window allowance it may take within a
/// lease of asking, and concurrency slots it holds while its own lease is live. A request the grants do
/// not cover waits while the gateway asks the store, one transaction for every request waiting then;
/// the store grants what they need and about a lease of this gateway's recent use beside, or refuses.
/// What a grant did not use goes back when its lease ends, slots this gateway no longer needs within a
/// second, and a request's token charge is trued up in its grant when it ends.
final class SharedAllowances: Sendable {
    struct Key: Hashable, Sendable {
        let scope: String
        let kind: AllowanceAsk.Kind
    }

    /// How long a window grant is spent for after it was asked for.
    static let lease = 1.0
    /// The span window grants are counted over: any minute of admissions lies within grants stamped in
    /// a minute and a lease.
    static let window = WindowAllowance.minute + lease

    private struct Grant {
        let row: Int64
        var remaining: Double
        let started: Double
        let deadline: Double
        var taken = 0.0
    }

    /// What the store last said of an allowance, for the `x-ratelimit-*` headers.
    private struct Known {
        let capacity: Double
        let available: Double
        let emptyAt: Double
    }

    private struct Slots {
        var held = 0
        var active = 0
        /// The most in flight since the last return: slots beyond it go back.
        var peak = 0
    }

    private struct Waiter {
        let demands: [QuotaBook.Demand]
        let charged: [Double]
        let promise: EventLoopPromise<QuotaBook.Admission>
    }

    private struct State {
        var grants: [Key: Grant] = [:]
        var known: [Key: Known] = [:]
        /// Units a second each window allowance was taken at lately: a new grant is sized by it.
        var rates: [Key: Double] = [:]
        var slots: [String: Slots] = [:]
        var waiting: [Waiter] = []
        var returns = AllowanceReturns()
        var busy = false
        var tickScheduled = false

        /// Takes what `demands` need out of the grants, all or none.
        mutating func take(
            _ demands: [QuotaBook.Demand],
            charged: [Double],
            now: Double,
            usable: Bool
        ) -> [QuotaBook.Mark]? {
            for (demand, tokens) in zip(demands, charged) {
                let scope = demand.scope.stored
                if demand.quota.requestsPerMinute != nil,
                    !covers(Key(scope: scope, kind: .requests), 1, now: now)
                {
                    return nil
                }
                if demand.quota.tokensPerMinute != nil, tokens > 0,
                    !covers(Key(scope: scope, kind: .tokens), tokens, now: now)
                {
                    return nil
                }
                if demand.quota.maxConcurrent != nil {
                    guard usable, let slots = slots[scope], slots.active < slots.held else { return nil }
                }
            }
            return zip(demands, charged).map { demand, tokens in
                let scope = demand.scope.stored
                var mark = QuotaBook.Mark()
                if demand.quota.requestsPerMinute != nil {
                    mark.requests = spend(Key(scope: scope, kind: .requests), 1)
                }
                if demand.quota.tokensPerMinute != nil, tokens > 0 {
                    mark.tokens = spend(Key(scope: scope, kind: .tokens), tokens)
                }
                if demand.quota.maxConcurrent != nil {
                    slots[scope]?.active += 1
                    if let slot = slots[scope], slot.active > slot.peak { slots[scope]?.peak = slot.active }
                }
                return mark
            }
        }

        func covers(_ key: Key, _ amount: Double, now: Double) -> Bool {
            guard let grant = grants[key] else { return false }
            return grant.deadline > now && grant.remaining >= amount
        }

        mutating func spend(_ key: Key, _ amount: Double) -> Int64? {
            grants[key]?.remaining -= amount
            grants[key]?.taken += amount
            return grants[key]?.row
        }

        /// Ends `key`'s grant: what it did not use goes back with the next transaction.
        mutating func retire(_ key: Key, now: Double) {
            guard let grant = grants.removeValue(forKey: key) else { return }
            if grant.remaining > 0 { returns.rows[grant.row, default: 0] += grant.remaining }
            rates[key] = grant.taken / max(now - grant.started, Self.shortestSpan)
        }

        /// Retires grants whose lease ended.
        mutating func retireEnded(now: Double) {
            for (key, grant) in grants where grant.deadline <= now { retire(key, now: now) }
        }

        /// Gives back slots beyond the most in flight since the last time.
        mutating func returnIdleSlots() {
            for (scope, slot) in slots {
                let excess = slot.held - max(slot.active, slot.peak)
                if excess > 0 { returns.slots[scope, default: 0] += excess }
                let kept = Slots(held: slot.held - max(excess, 0), active: slot.active, peak: slot.active)
                slots[scope] = kept.held == 0 && kept.active == 0 ? nil : kept
            }
        }

        /// A rate measured over less than this is counted over this.
        static let shortestSpan = 0.1

        var holdsAnything: Bool { !grants.isEmpty || !slots.isEmpty || !returns.isEmpty }
    }

    private let store: Store
    private let instance: GatewayInstance
    private let clock: @Sendable () -> Double
    private let queue = DispatchQueue(label: "gatehouse.allowances")
    private let state = Mutex(State())

    /// - Parameter clock: a monotonic clock in seconds; grants' leases are timed by it.
    init(
        store: Store,
        instance: GatewayInstance,
        clock: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    ) {
        self.store = store
        self.instance = instance
        self.clock = clock
    }

    func admit(
        _ demands: [QuotaBook.Demand],
        charged: [Double],
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<QuotaBook.Admission> {
        let now = clock()
        let usable = instance.holdsUsable
        if let admission = state.withLock({ state -> QuotaBook.Admission? in
            state.take(demands, charged: charged, now: now, usable: usable).map {
                .admitted(
                    QuotaBook.Hold(
                        demands: demands,
                        chargedTokens: charged,
                        marks: $0,
                        headers: Self.headers(demands, in: state, now: now)
                    )
                )
            }
        }) {
            return eventLoop.makeSucceededFuture(admission)
        }
        let promise = eventLoop.makePromise(of: QuotaBook.Admission.self)
        let start = state.withLock { state in
            state.waiting.append(Waiter(demands: demands, charged: charged, promise: promise))
            defer { state.busy = true }
            return !state.busy
        }
        if start { queue.async { self.drain() } }
        return promise.futureResult
    }

    /// Frees a request's slots and trues up its tokens (`used` by demand; nil when unknown).
    func finish(_ hold: QuotaBook.Hold, used: [Double?]) {
        let now = clock()
        state.withLock { state in
            for index in hold.demands.indices {
                let demand = hold.demands[index]
                let scope = demand.scope.stored
                if demand.quota.maxConcurrent != nil { state.slots[scope]?.active -= 1 }
                guard let used = used[index], let row = hold.marks[index].tokens else { continue }
                let key = Key(scope: scope, kind: .tokens)
                let back = hold.chargedTokens[index] - used
                // Within the grant's lease, what comes back can be spent again by this gateway.
                if var grant = state.grants[key], grant.row == row, grant.deadline > now {
                    grant.remaining += back
                    if grant.remaining < 0 {
                        state.returns.rows[row, default: 0] += grant.remaining
                        grant.remaining = 0
                    }
                    state.grants[key] = grant
                } else {
                    state.returns.rows[row, default: 0] += back
                }
            }
        }
        scheduleTick()
    }

    /// Asks the store for the waiting requests until none wait; on the allowances' queue.
    private func drain(tick: Bool = false) {
        var tick = tick
        while true {
            let now = clock()
            let taken = state.withLock { state -> ([Waiter], [AllowanceAsk], AllowanceReturns)? in
                let waiters = state.waiting
                state.waiting = []
                state.retireEnded(now: now)
                if tick { state.returnIdleSlots() }
                tick = false
                let asks = Self.asks(for: waiters, in: &state, now: now)
                let returns = state.returns
                state.returns = AllowanceReturns()
                guard !waiters.isEmpty || !returns.isEmpty else {
                    state.busy = false
                    return nil
                }
                return (waiters, asks, returns)
            }
            guard let (waiters, asks, returns) = taken else { break }
            let grants: [AllowanceGrant]?
            do {
                grants =
                    asks.isEmpty && returns.isEmpty
                    ? []
                    : try store.shareAllowances(
                        asks,
                        returning: returns,
                        owner: instance.id,
                        window: Self.window,
                        lease: Self.lease
                    )
            } catch {
                grants = nil
            }
            let usable = instance.holdsUsable
            let completions = state.withLock {
                state -> [(EventLoopPromise<QuotaBook.Admission>, QuotaBook.Admission)] in
                guard let grants else {
                    // Given back with the next transaction that reaches the store; the waiting are refused.
                    state.returns.merge(returns)
                    return waiters.map { ($0.promise, .unavailable) }
                }
                var waits: [Key: Double] = [:]
                for (ask, grant) in zip(asks, grants) {
                    let key = Key(scope: ask.scope, kind: ask.kind)
                    waits[key] = grant.granted > 0 ? Self.lease : grant.wait
                    state.known[key] = Known(
                        capacity: ask.capacity,
                        available: grant.available,
                        emptyAt: now + grant.secondsToEmpty
                    )
                    guard grant.granted > 0 else { continue }
                    if ask.kind == .concurrent {
                        state.slots[ask.scope, default: Slots()].held += Int(grant.granted)
                    } else if let row = grant.row {
                        state.grants[key] = Grant(
                            row: row,
                            remaining: grant.granted,
                            started: now,
                            deadline: now + Self.lease
                        )
                    }
                }
                let after = clock()
                return waiters.map { waiter in
                    (waiter.promise, Self.answer(waiter, waits: waits, in: &state, now: after, usable: usable))
                }
            }
            for (promise, admission) in completions { promise.succeed(admission) }
        }
        scheduleTick()
    }

    /// What to ask the store for so that the waiting requests fit: for each allowance their grants do
    /// not cover, what one needs at least, and what all need plus a lease of recent use. A window's
    /// grant is replaced (its rest goes back); slots are added to.
    private static func asks(for waiters: [Waiter], in state: inout State, now: Double) -> [AllowanceAsk] {
        var needs: [Key: (capacity: Double, least: Double, total: Double)] = [:]
        func need(_ key: Key, _ capacity: Int, _ amount: Double) {
            let current = needs[key] ?? (Double(capacity), amount, 0)
            needs[key] = (current.capacity, min(current.least, amount), current.total + amount)
        }
        for waiter in waiters {
            for (demand, tokens) in zip(waiter.demands, waiter.charged) {
                let scope = demand.scope.stored
                if let limit = demand.quota.requestsPerMinute { need(Key(scope: scope, kind: .requests), limit, 1) }
                if let limit = demand.quota.tokensPerMinute, tokens > 0 {
                    need(Key(scope: scope, kind: .tokens), limit, tokens)
                }
                if let limit = demand.quota.maxConcurrent { need(Key(scope: scope, kind: .concurrent), limit, 1) }
            }
        }
        var asks: [AllowanceAsk] = []
        for (key, need) in needs.sorted(by: {
            ($0.key.scope, $0.key.kind.rawValue) < ($1.key.scope, $1.key.kind.rawValue)
        }) {
            switch key.kind {
            case .requests, .tokens:
                if state.covers(key, need.total, now: now) { continue }
                state.retire(key, now: now)
                // Near the limit a grant this gateway does not use keeps it from the others for a lease:
                // the headroom is at most a quarter of what the store had left.
                let headroom = min((state.rates[key] ?? 0) * lease, (state.known[key]?.available ?? 0) / 4)
                asks.append(
                    AllowanceAsk(
                        scope: key.scope,
                        kind: key.kind,
                        capacity: need.capacity,
                        needed: need.least,
                        wanted: need.total + headroom
                    )
                )
            case .concurrent:
                let slot = state.slots[key.scope] ?? Slots()
                let short = Double(slot.active) + need.total - Double(slot.held)
                if short <= 0 { continue }
                asks.append(
                    AllowanceAsk(scope: key.scope, kind: key.kind, capacity: need.capacity, needed: 1, wanted: short)
                )
            }
        }
        return asks
    }

    /// Admits a waiting request out of the grants, or refuses it with the longest wait its allowances
    /// named.
    private static func answer(
        _ waiter: Waiter,
        waits: [Key: Double],
        in state: inout State,
        now: Double,
        usable: Bool
    ) -> QuotaBook.Admission {
        let headers = Self.headers(waiter.demands, in: state, now: now)
        // Slots are this gateway's only while its lease is current: without it, nothing is counted.
        if !usable && waiter.demands.contains(where: { $0.quota.maxConcurrent != nil }) { return .unavailable }
        if let marks = state.take(waiter.demands, charged: waiter.charged, now: now, usable: usable) {
            return .admitted(
                QuotaBook.Hold(demands: waiter.demands, chargedTokens: waiter.charged, marks: marks, headers: headers)
            )
        }
        for (demand, tokens) in zip(waiter.demands, waiter.charged) {
            let scope = demand.scope.stored
            let requests = Key(scope: scope, kind: .requests)
            let tokenKey = Key(scope: scope, kind: .tokens)
            let slot = state.slots[scope] ?? Slots()
            let refusal = QuotaBook.refusal(
                demand,
                concurrencyFull: demand.quota.maxConcurrent != nil && slot.active >= slot.held,
                requestsWait: demand.quota.requestsPerMinute != nil && !state.covers(requests, 1, now: now)
                    ? waits[requests] ?? lease : 0,
                tokensWait: demand.quota.tokensPerMinute != nil && tokens > 0
                    && !state.covers(tokenKey, tokens, now: now)
                    ? (tokens > Double(demand.quota.tokensPerMinute ?? 0) ? .infinity : waits[tokenKey] ?? lease) : 0,
                tokens: tokens
            )
            if let (limit, wait) = refusal {
                return .refused(limit: limit, retryAfter: QuotaBook.retryAfter(wait), headers: headers)
            }
        }
        return .refused(limit: "a shared quota", retryAfter: 1, headers: headers)
    }

    /// The `x-ratelimit-*` headers as this gateway knows the shared allowances: what the store had left
    /// at the last grant, and what this gateway's grants have left.
    private static func headers(_ demands: [QuotaBook.Demand], in state: State, now: Double) -> [(String, String)] {
        func view(_ key: Key) -> QuotaBook.View? {
            guard let known = state.known[key] else { return nil }
            let own = state.grants[key].map { $0.deadline > now ? $0.remaining : 0 } ?? 0
            return QuotaBook.View(
                capacity: known.capacity,
                remaining: Int((known.available + own).rounded(.down)),
                secondsToReset: max(known.emptyAt - now, 0)
            )
        }
        let scopes = demands.map(\.scope.stored)
        return QuotaBook.headers(
            requests: scopes.compactMap { view(Key(scope: $0, kind: .requests)) },
            tokens: scopes.compactMap { view(Key(scope: $0, kind: .tokens)) }
        )
    }

    /// Comes back in a lease to retire ended grants and give back what is not needed, while anything is
    /// held or owed.
    private func scheduleTick() {
        let due = state.withLock { state in
            guard state.holdsAnything, !state.tickScheduled else { return false }
            state.tickScheduled = true
            return true
        }
        guard due else { return }
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(Self.lease * 1000))) {
            let start = self.state.withLock { state in
                state.tickScheduled = false
                defer { state.busy = true }
                return !state.busy
            }
            if start { self.drain(tick: true) } else { self.scheduleTick() }
        }
    }
}
