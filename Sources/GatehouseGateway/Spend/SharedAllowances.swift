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
/// What a grant did not use goes back when its lease ends, slots this gateway no longer needs within two
/// seconds, and a request's token charge is trued up in its grant when it ends. The store is told
/// absolute amounts (`AllowanceReturns`), so a transaction tried again never counts anything twice.
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
    /// How long the store is not asked again after it could not be reached.
    static let retryDelay = 0.2

    private struct Grant {
        let row: Int64
        /// What is left to take; below zero when requests used more than they were charged.
        var remaining: Double
        let started: Double
        let deadline: Double
        var taken = 0.0
    }

    /// What a grant row counts, as this gateway means the store to have it, until it leaves the window.
    private struct Row {
        var amount: Double
        let forgotten: Double
    }

    /// What the store last said of an allowance, for the `x-ratelimit-*` headers and to refuse without
    /// asking again while it said no.
    private struct Known {
        let capacity: Double
        let available: Double
        let emptyAt: Double
        /// Until when not to ask again, and when what was needed may be free.
        let refusedUntil: Double
        let freeAt: Double
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
        /// Whether it was put back once already, after requests took what the store had just granted.
        var again = false
    }

    private struct State {
        var grants: [Key: Grant] = [:]
        var rows: [Int64: Row] = [:]
        var known: [Key: Known] = [:]
        /// Units a second each window allowance was taken at lately: a new grant is sized by it.
        var rates: [Key: Double] = [:]
        var slots: [String: Slots] = [:]
        var waiting: [Waiter] = []
        /// What the store is still to be told.
        var returns = AllowanceReturns()
        var busy = false
        var tickScheduled = false
        var tickDue = false
        var failedUntil = 0.0

        /// Takes what `demands` need out of the grants, all or none.
        mutating func take(
            _ demands: [QuotaBook.Demand],
            charged: [Double],
            now: Double,
            usable: Bool
        ) -> [Int64?]? {
            for (demand, tokens) in zip(demands, charged) {
                let scope = demand.scope.stored
                if demand.quota.requestsPerMinute != nil, !covers(Key(scope: scope, kind: .requests), 1, now: now) {
                    return nil
                }
                if demand.quota.tokensPerMinute != nil, tokens > 0,
                    !covers(Key(scope: scope, kind: .tokens), tokens, now: now)
                {
                    return nil
                }
                if let cap = demand.quota.maxConcurrent {
                    // The cap as configured now, too: slots held under a larger one are not all usable.
                    guard usable, let slots = slots[scope], slots.active < min(slots.held, cap) else { return nil }
                }
            }
            return zip(demands, charged).map { demand, tokens in
                let scope = demand.scope.stored
                if demand.quota.requestsPerMinute != nil { spend(Key(scope: scope, kind: .requests), 1) }
                var mark: Int64?
                if demand.quota.tokensPerMinute != nil, tokens > 0 {
                    mark = spend(Key(scope: scope, kind: .tokens), tokens)
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

        /// Takes `amount` from `key`'s grant; returns the grant's row.
        @discardableResult
        mutating func spend(_ key: Key, _ amount: Double) -> Int64? {
            grants[key]?.remaining -= amount
            grants[key]?.taken += amount
            return grants[key]?.row
        }

        /// Ends `key`'s grant: its row counts what it did not use no more (or, overdrawn, what its
        /// requests used beyond their charge).
        mutating func retire(_ key: Key, now: Double) {
            guard let grant = grants.removeValue(forKey: key) else { return }
            if grant.remaining != 0 { adjust(grant.row, by: -grant.remaining) }
            rates[key] = grant.taken / max(now - grant.started, Self.shortestSpan)
        }

        /// Changes what row `row` counts by `amount`, to be told to the store.
        mutating func adjust(_ row: Int64, by amount: Double) {
            guard var counted = rows[row] else { return }
            counted.amount += amount
            rows[row] = counted
            returns.rows[row] = counted.amount
        }

        /// Retires grants whose lease ended, and forgets rows no window counts and what the store said of
        /// allowances whose window is empty.
        mutating func retireEnded(now: Double) {
            for (key, grant) in grants where grant.deadline <= now { retire(key, now: now) }
            rows = rows.filter { $0.value.forgotten > now }
            known = known.filter { grants[$0.key] != nil || $0.value.emptyAt > now }
            rates = rates.filter { known[$0.key] != nil }
        }

        /// Gives back slots beyond the most in flight since the last time.
        mutating func returnIdleSlots() {
            for (scope, slot) in slots {
                let excess = slot.held - max(slot.active, slot.peak)
                let kept = Slots(held: slot.held - max(excess, 0), active: slot.active, peak: slot.active)
                if excess > 0 { returns.slots[scope] = kept.held }
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
    ) -> Eventual<QuotaBook.Admission> {
        let usable = instance.holdsUsable
        let (answer, start) = state.withLock { state -> (Eventual<QuotaBook.Admission>, Bool) in
            // Read under the lock: a grant is never spent after its deadline, however long the wait for it.
            let now = clock()
            if let marks = state.take(demands, charged: charged, now: now, usable: usable) {
                let hold = QuotaBook.Hold(
                    demands: demands,
                    chargedTokens: charged,
                    tokenMarks: marks,
                    headers: Self.headers(demands, in: state, now: now)
                )
                return (.now(.admitted(hold)), false)
            }
            if let refusal = Self.refusal(demands, charged: charged, in: state, now: now, asked: false) {
                return (.now(refusal), false)
            }
            let promise = eventLoop.makePromise(of: QuotaBook.Admission.self)
            state.waiting.append(Waiter(demands: demands, charged: charged, promise: promise))
            defer { state.busy = true }
            return (.later(promise.futureResult), !state.busy)
        }
        if start { queue.async { self.drain() } }
        return answer
    }

    /// Frees a request's slots and trues up its tokens (`used` by demand; nil when unknown).
    func finish(_ hold: QuotaBook.Hold, used: [Double?]) {
        state.withLock { state in
            let now = clock()
            for index in hold.demands.indices {
                let demand = hold.demands[index]
                let scope = demand.scope.stored
                if demand.quota.maxConcurrent != nil { state.slots[scope]?.active -= 1 }
                guard let used = used[index], let row = hold.tokenMarks[index] else { continue }
                let key = Key(scope: scope, kind: .tokens)
                let back = hold.chargedTokens[index] - used
                // Within the grant's lease, what comes back can be spent again by this gateway (and what
                // was used beyond the charge is taken from it); the grant's row learns of it when it ends.
                if state.grants[key]?.row == row, let deadline = state.grants[key]?.deadline, deadline > now {
                    state.grants[key]?.remaining += back
                } else {
                    state.adjust(row, by: -back)
                }
            }
        }
        scheduleTick()
    }

    /// Asks the store for the waiting requests until none wait; on the allowances' queue.
    private func drain() {
        while true {
            let taken = state.withLock { state -> (Double, [Waiter], [AllowanceAsk], AllowanceReturns)? in
                let now = clock()
                let waiters = state.waiting
                state.waiting = []
                state.retireEnded(now: now)
                if state.tickDue { state.returnIdleSlots() }
                state.tickDue = false
                if now < state.failedUntil {
                    // The store could not be reached a moment ago: the waiting are refused at once, and
                    // what it is owed waits for the next tick.
                    guard !waiters.isEmpty else {
                        state.busy = false
                        return nil
                    }
                    return (now, waiters, [], AllowanceReturns())
                }
                let asks = Self.asks(for: waiters, in: &state, now: now)
                let returns = state.returns
                state.returns = AllowanceReturns()
                guard !waiters.isEmpty || !returns.isEmpty else {
                    state.busy = false
                    return nil
                }
                return (now, waiters, asks, returns)
            }
            guard let (now, waiters, asks, returns) = taken else { break }
            var grants: [AllowanceGrant]?
            if asks.isEmpty && returns.isEmpty {
                grants = now < state.withLock({ $0.failedUntil }) ? nil : []
            } else {
                grants = try? store.shareAllowances(
                    asks,
                    returning: returns,
                    owner: instance.id,
                    window: Self.window,
                    lease: Self.lease
                )
            }
            let usable = instance.holdsUsable
            let completions = state.withLock {
                state -> [(EventLoopPromise<QuotaBook.Admission>, QuotaBook.Admission)] in
                let after = clock()
                guard let grants else {
                    // Told again, newer amounts first, with the next transaction that reaches the store.
                    var owed = returns
                    owed.merge(state.returns)
                    state.returns = owed
                    if !returns.isEmpty || !asks.isEmpty { state.failedUntil = after + Self.retryDelay }
                    return waiters.map { ($0.promise, .unavailable) }
                }
                for (ask, grant) in zip(asks, grants) {
                    Self.take(grant, for: ask, in: &state, now: now)
                }
                // Grants that ended before they arrived (a store this slow) admit nothing: the waiting are
                // told the store cannot answer now, not that a limit was reached.
                let late = after - now >= Self.lease
                return waiters.compactMap { waiter in
                    if late { return (waiter.promise, .unavailable) }
                    guard let answer = Self.answer(waiter, in: &state, now: after, usable: usable) else {
                        var again = waiter
                        again.again = true
                        state.waiting.append(again)
                        return nil
                    }
                    return (waiter.promise, answer)
                }
            }
            for (promise, admission) in completions { promise.succeed(admission) }
        }
        scheduleTick()
    }

    /// Keeps what the store granted for `ask`, asked at `now`, and what it said of the allowance.
    private static func take(_ grant: AllowanceGrant, for ask: AllowanceAsk, in state: inout State, now: Double) {
        let key = Key(scope: ask.scope, kind: ask.kind)
        state.known[key] = Known(
            capacity: ask.capacity,
            available: grant.available,
            emptyAt: now + grant.secondsToEmpty,
            refusedUntil: grant.granted > 0 ? 0 : now + min(grant.wait, lease),
            freeAt: now + grant.wait
        )
        guard grant.granted > 0 else { return }
        if ask.kind == .concurrent {
            state.slots[ask.scope, default: Slots()].held += Int(grant.granted)
        } else if let row = grant.row {
            state.grants[key] = Grant(row: row, remaining: grant.granted, started: now, deadline: now + lease)
            state.rows[row] = Row(amount: grant.granted, forgotten: now + window)
        }
    }

    /// What to ask the store for so that the waiting requests fit: for each allowance their grants do
    /// not cover, what one needs at least, and what all need plus a lease of recent use. A window's
    /// grant is replaced (its rest goes back); slots are added to.
    private static func asks(for waiters: [Waiter], in state: inout State, now: Double) -> [AllowanceAsk] {
        var needs: [Key: (capacity: Double, least: Double, total: Double)] = [:]
        // A request put back once is asked for even if the grants cover it now: the grant then arrives
        // with its answer, before requests on the event loops can take it.
        var asked: Set<Key> = []
        func need(_ key: Key, _ capacity: Int, _ amount: Double, again: Bool) {
            let current = needs[key] ?? (Double(capacity), amount, 0)
            needs[key] = (current.capacity, min(current.least, amount), current.total + amount)
            if again { asked.insert(key) }
        }
        for waiter in waiters {
            for (demand, tokens) in zip(waiter.demands, waiter.charged) {
                let scope = demand.scope.stored
                if let limit = demand.quota.requestsPerMinute {
                    need(Key(scope: scope, kind: .requests), limit, 1, again: waiter.again)
                }
                if let limit = demand.quota.tokensPerMinute, tokens > 0 {
                    need(Key(scope: scope, kind: .tokens), limit, tokens, again: waiter.again)
                }
                if let limit = demand.quota.maxConcurrent {
                    need(Key(scope: scope, kind: .concurrent), limit, 1, again: waiter.again)
                }
            }
        }
        var asks: [AllowanceAsk] = []
        for (key, need) in needs.sorted(by: {
            ($0.key.scope, $0.key.kind.rawValue) < ($1.key.scope, $1.key.kind.rawValue)
        }) {
            switch key.kind {
            case .requests, .tokens:
                if !asked.contains(key), state.covers(key, need.total, now: now) { continue }
                state.retire(key, now: now)
                // Near the limit a grant this gateway does not use keeps it from the others for a lease:
                // the headroom is at most a quarter of what the store had left. Whole units, as requests
                // and tokens are counted: a fraction left in each of two grants is a request neither admits.
                let headroom = min((state.rates[key] ?? 0) * lease, (state.known[key]?.available ?? 0) / 4)
                    .rounded(.down)
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

    /// Admits a waiting request out of the grants, or refuses it; nil when it is to wait for the store
    /// once more: requests on the event loops took what the grants had after the store was asked (or was
    /// not, as they covered it then), and the store did not refuse it.
    private static func answer(
        _ waiter: Waiter,
        in state: inout State,
        now: Double,
        usable: Bool
    ) -> QuotaBook.Admission? {
        // Slots are this gateway's only while its lease is current: without it, nothing is counted.
        if !usable && waiter.demands.contains(where: { $0.quota.maxConcurrent != nil }) { return .unavailable }
        if let marks = state.take(waiter.demands, charged: waiter.charged, now: now, usable: usable) {
            let hold = QuotaBook.Hold(
                demands: waiter.demands,
                chargedTokens: waiter.charged,
                tokenMarks: marks,
                headers: Self.headers(waiter.demands, in: state, now: now)
            )
            return .admitted(hold)
        }
        if !waiter.again, refusal(waiter.demands, charged: waiter.charged, in: state, now: now, asked: false) == nil {
            return nil
        }
        return refusal(waiter.demands, charged: waiter.charged, in: state, now: now, asked: true)
            ?? .refused(limit: "a shared quota", retryAfter: 1, headers: headers(waiter.demands, in: state, now: now))
    }

    /// The refusal for `demands` the grants do not cover: one charged more than a whole allowance,
    /// one the store refused a moment ago (`asked` false: before asking again), or (`asked`) one the
    /// store's answer did not cover. Nil when the store is to be asked.
    private static func refusal(
        _ demands: [QuotaBook.Demand],
        charged: [Double],
        in state: State,
        now: Double,
        asked: Bool
    ) -> QuotaBook.Admission? {
        for (demand, tokens) in zip(demands, charged) {
            let scope = demand.scope.stored
            func wait(_ kind: AllowanceAsk.Kind, _ amount: Double, limit: Int?) -> Double {
                let key = Key(scope: scope, kind: kind)
                guard limit != nil, amount > 0, !state.covers(key, amount, now: now) else { return 0 }
                if amount > Double(limit ?? 0) { return .infinity }
                guard let known = state.known[key], asked || known.refusedUntil > now else { return 0 }
                return max(known.freeAt - now, asked ? lease : 0.001)
            }
            let quota = demand.quota
            let slot = state.slots[scope] ?? Slots()
            let key = Key(scope: scope, kind: .concurrent)
            let full =
                quota.maxConcurrent.map { cap in
                    slot.active >= min(slot.held, cap) && (asked || (state.known[key]?.refusedUntil ?? 0) > now)
                } ?? false
            if let (limit, wait) = QuotaBook.refusal(
                demand,
                concurrencyFull: full,
                requestsWait: wait(.requests, 1, limit: quota.requestsPerMinute),
                tokensWait: wait(.tokens, tokens, limit: quota.tokensPerMinute),
                tokens: tokens
            ) {
                return .refused(
                    limit: limit,
                    retryAfter: QuotaBook.retryAfter(wait),
                    headers: headers(demands, in: state, now: now)
                )
            }
        }
        return nil
    }

    /// The `x-ratelimit-*` headers as this gateway knows the shared allowances: what the store had left
    /// at the last grant, and what this gateway's grants have left.
    private static func headers(_ demands: [QuotaBook.Demand], in state: State, now: Double) -> [(String, String)] {
        func view(_ key: Key) -> QuotaBook.View? {
            guard let known = state.known[key] else { return nil }
            let own = state.grants[key].map { $0.deadline > now ? max($0.remaining, 0) : 0 } ?? 0
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
    /// held or owed; a drain running then does it.
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
                state.tickDue = true
                defer { state.busy = true }
                return !state.busy
            }
            if start { self.drain() }
        }
    }
}
