import Foundation
import GatehouseCore
import GatehouseStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Reserves, charges and records requests' spending, and puts what must last into the store from one
/// thread, many operations to a transaction. Event loops never wait on the database.
///
/// Budgets are reserved in memory against holds: this gateway's share of each budget window, kept in
/// the store as reserved (`LedgerOperation.hold`). A request that fits in what the gateway holds and
/// has not promised to requests in flight is reserved at once; one that does not waits for its hold to
/// grow, by what it needs and headroom for the requests after it (`Hold.headroom`), or is refused when
/// the budget cannot spare it. A request's cost is charged out of the hold when it ends, and what the
/// gateway does not need is given back. One refused only because requests in flight (here or on other
/// gateways) have what it needs waits for them to end, up to `budgetWait`, rather than be refused while
/// the budget still has room: a burst is admitted as far as the budget goes, not as far as its worst
/// cases go. Every request forwarded and not yet charged is covered by a
/// hold in the store, so no budget is ever overspent, and a gateway that dies leaves holds the next
/// start charges.
///
/// On SQLite, a request's charge and audit record are made durable in its event loop's journal
/// (`JournalSet`, one `write` per request) and moved into the store in large transactions: within 200 ms,
/// at 4,096 operations, or with the next hold that needs the store. On PostgreSQL there is no journal
/// (in a pod the data directory goes with the pod): they go to the store from the ledger's thread, many
/// requests to a transaction, and a complete answer's last bytes wait for the commit. While that store
/// cannot be reached, requests are refused (`canRecord`), never forwarded unrecorded. A journal that cannot be written sends them
/// to the store from the ledger's thread (group commit); a charge or record whose transaction
/// fails (disk full, database locked) is kept and retried until it lands: a charge is never dropped. A
/// record's future still completes, with `.failed`, so a response is not held hostage by the store.
final class SpendLedger: Service, Sendable {
    private enum Job {
        case reserve(BudgetReservation, claimed: [Cost], EventLoopPromise<LedgerOutcome>)
        case settle(BudgetReservation, cost: Cost)
        /// The entry and its stored text, encoded on the caller's thread.
        case record(AuditEntry, text: String, EventLoopPromise<LedgerOutcome>?)
        /// Moves what the journal has into the store.
        case move
    }

    /// What this gateway holds on one budget window, and how much of it requests in flight have.
    private struct Hold {
        var held = Cost.zero
        private(set) var inFlight = Cost.zero
        var limit = Cost.zero
        var windowEnd: Int64 = 0
        /// The most in flight and what was charged in this second and the one before: the headroom a
        /// hold keeps is sized by them. Sized by the moment's requests alone, a hold shrank in every lull
        /// and ran dry a few dozen requests after it grew (charges come out of it), a store transaction
        /// and a wait for every request that found it short, dozens of times a second under load.
        private var peak = Cost.zero
        private var charged = Cost.zero
        private var lastPeak = Cost.zero
        private var lastCharged = Cost.zero
        private var second: Int64 = 0

        /// On PostgreSQL, the most requests in flight may cost as the store last heard it (lowered here at
        /// once, raised once the store has it): requests are reserved in memory only up to it, so a
        /// gateway killed now is charged no more than it, never the headroom no request used.
        var bound = Cost.zero

        var free: Cost { held > inFlight ? held - inFlight : .zero }

        /// The most in flight in this second or the one before.
        var recentPeak: Cost { max(peak, lastPeak) }

        /// What to hold beyond what requests in flight have: twice the most in flight lately and about a
        /// second of charges.
        var headroom: Cost { max(peak, lastPeak) * 2 + max(charged, lastCharged) }

        mutating func start(_ amount: Cost) {
            inFlight += amount
            if inFlight > peak { peak = inFlight }
        }

        mutating func end(_ amount: Cost, charged cost: Cost) {
            held -= cost
            inFlight -= amount
            charged += cost
        }

        /// Starts a new second's counts when `now` is past the current one.
        mutating func roll(now: Int64) {
            guard now > second else { return }
            let follows = now == second + 1
            lastPeak = follows ? peak : inFlight
            lastCharged = follows ? charged : .zero
            peak = inFlight
            charged = .zero
            second = now
        }
    }

    /// A reservation waiting for reserved money to come back, with the refusal it gets if it never does.
    private struct Parked {
        let reservation: BudgetReservation
        let promise: EventLoopPromise<LedgerOutcome>
        let refusal: BudgetRefusal
        let deadline: Date
    }

    private struct State {
        /// Whether holds are reserved from only up to their `bound` (PostgreSQL; SQLite's journals are
        /// replayed when a gateway dies, and its holds charged in full).
        let bounded: Bool
        var pending: [Job] = []
        /// Oldest first; the first asks the store again every `parkedRetry`, the others fit in memory.
        var parked: [Parked] = []
        var nextParkedTry = Date.distantPast
        /// Set at shutdown: a reservation refused from then on is refused, not parked (nothing would
        /// come back for it once the ledger's thread stops).
        var stopping = false
        var retries: [Job] = []
        var draining = false
        var holds: [LedgerOperation.HoldKey: Hold] = [:]
        /// What the next batch gives back of holds too small for a reservation the budget refused, with
        /// nothing in flight to make them grow: a budget's last requests fit only in such pieces put
        /// together, and two gateways each keeping one waited for each other until both refused.
        var stranded: [LedgerOperation.HoldKey: Cost] = [:]

        /// Takes out of the holds, to give back, what `reservation` found free on them and too little,
        /// where nothing is in flight.
        mutating func strand(_ reservation: BudgetReservation) {
            for key in reservation.keys {
                guard var hold = holds[key], hold.inFlight == .zero, hold.free > .zero,
                    hold.free < reservation.amount
                else { continue }
                stranded[key, default: .zero] += hold.free
                hold.held -= hold.free
                holds[key] = hold.held == .zero ? nil : hold
            }
        }

        /// A reservation ends, charged `cost`: the hold keeps the rest for the requests to come.
        mutating func settle(_ reservation: BudgetReservation, cost: Cost) {
            for key in reservation.keys {
                guard var hold = holds[key] else { continue }
                hold.end(reservation.amount, charged: cost)
                holds[key] = hold.held == .zero && hold.inFlight == .zero ? nil : hold
            }
        }

        /// Takes `reservation` out of what is free in its holds, all or none.
        mutating func reserveFromHolds(_ reservation: BudgetReservation, now: Int64) -> Bool {
            for (charge, key) in zip(reservation.budgets, reservation.keys) {
                guard let hold = holds[key], hold.limit == charge.limit, hold.windowEnd > now,
                    hold.free >= reservation.amount, !bounded || hold.inFlight + reservation.amount <= hold.bound
                else { return false }
            }
            for key in reservation.keys { holds[key]?.start(reservation.amount) }
            return true
        }

        /// The bounds to tell the store, for holds whose bound must rise or may fall: what is in flight,
        /// what the batch's reservations still need, and as much again as was in flight lately, so the
        /// requests to come rarely wait for the store to hear of them. Lowered here at once.
        mutating func bounds(for jobs: [Job]) -> [LedgerOperation.HoldKey: Cost] {
            guard bounded else { return [:] }
            var needed: [LedgerOperation.HoldKey: Cost] = [:]
            for case .reserve(let reservation, let claimed, _) in jobs {
                for (key, taken) in zip(reservation.keys, claimed) {
                    needed[key, default: .zero] += reservation.amount - taken
                }
            }
            var bounds: [LedgerOperation.HoldKey: Cost] = [:]
            for key in Set(holds.keys).union(needed.keys) {
                let hold = holds[key]
                let bound = (hold?.inFlight ?? .zero) + (needed[key] ?? .zero) + (hold?.recentPeak ?? .zero)
                if let current = hold?.bound {
                    // Raised when requests need it; lowered once a quarter of it is more than needed, not
                    // at every change of what is in flight (each costs a statement).
                    guard bound > current || bound.picodollars < current.picodollars - current.picodollars / 4
                    else { continue }
                    if bound < current { holds[key]?.bound = bound }
                }
                bounds[key] = bound
            }
            return bounds
        }
    }

    private let store: Store
    let instance: GatewayInstance
    private let logger: Logger
    private let thread = NIOThreadPool(numberOfThreads: 1)
    /// Where the lease is renewed and dead gateways swept (`keepLease`).
    private let leaseThread = NIOThreadPool(numberOfThreads: 1)
    private let state: Mutex<State>
    /// The journals, on SQLite; nil on PostgreSQL.
    private let journals: JournalSet?
    /// Whether the last transaction or lease renewal reached the store (always true with journals).
    private let reachable = Atomic(true)
    /// Whether a move of the journals into the store is on its way (asked by every request's append: an
    /// atomic, read before it is swapped, so the event loops do not take turns on a lock for it).
    private let moveScheduled = Atomic(false)
    /// Whether a return for holds kept idle is on its way.
    private let releaseScheduled = Atomic(false)
    /// Whether a look at the parked reservations is on its way.
    private let parkedScheduled = Atomic(false)
    /// How long a reservation waits for reserved money to come back before it is refused
    /// (`limits.budgetWait`, read when it starts waiting: a reload changes it for the next).
    private let budgetWait: @Sendable () -> Duration
    /// How often the first parked reservation asks the store (other gateways' holds may have shrunk),
    /// and how many may wait at once.
    static let parkedRetry = 0.1
    static let parkedLimit = 4096
    static let retryDelay = TimeAmount.milliseconds(200)
    /// How long journaled operations wait at most before they are moved into the store, and how many.
    static let moveDelay = DispatchTimeInterval.milliseconds(200)
    static let moveBatch = 4096
    /// How often holds of gateways that died are looked for and charged: on SQLite a lock file tells at
    /// once; on PostgreSQL a lease runs out `GatewayInstance.leaseDuration` after its gateway died, and
    /// its holds are settled within 10 s of the death.
    static let sweepInterval = Duration.seconds(10)
    static let leasedSweepInterval = Duration.seconds(2)

    /// - Parameters:
    ///   - instance: this gateway as the others see it; its id marks the holds it has.
    ///   - budgetWait: how long a reservation waits for reserved money to come back.
    init(
        store: Store,
        instance: GatewayInstance,
        logger: Logger,
        budgetWait: @escaping @Sendable () -> Duration
    ) throws(StoreError) {
        self.store = store
        self.instance = instance
        self.logger = logger
        self.budgetWait = budgetWait
        journals = try store.location.directory.map { directory throws(StoreError) in
            try JournalSet(directory: directory, owner: instance.id)
        }
        state = Mutex(State(bounded: journals == nil))
        thread.start()
        leaseThread.start()
    }

    /// Whether a request's record can be made durable now: false while a PostgreSQL store is out of
    /// reach (with journals, always true). Requests are refused meanwhile.
    var canRecord: Bool { reachable.load(ordering: .relaxed) }

    /// The reservation of `amount` against `budgets` that `reserve` takes and `settle` gives back.
    func reservation(of amount: Cost, against budgets: [BudgetCharge], at: Date = Date()) -> BudgetReservation {
        BudgetReservation(amount: amount, budgets: budgets, owner: instance.id, at: at)
    }

    /// Reserves `reservation`: `.done` when the request may go ahead, `.refused` when a budget cannot
    /// spare it, `.failed` when the store could not be reached to grow a hold.
    func reserve(_ reservation: BudgetReservation, on eventLoop: any EventLoop) -> Eventual<LedgerOutcome> {
        let now = Int64(reservation.at.timeIntervalSince1970)
        if instance.holdsUsable, state.withLock({ $0.reserveFromHolds(reservation, now: now) }) {
            return .now(.done)
        }
        let promise = eventLoop.makePromise(of: LedgerOutcome.self)
        enqueue([.reserve(reservation, claimed: [], promise)])
        return .later(promise.futureResult)
    }

    /// Charges a reserved request's `cost` (at most what was reserved; none without a reservation),
    /// frees the rest of its reservation, and appends `entry` to the audit trail. Made durable in the
    /// calling event loop's journal, so the outcome is known at once; without a journal, or when it
    /// cannot be written, they go to the store from the ledger's thread, and the outcome waits for that.
    func finish(
        _ reservation: BudgetReservation?,
        cost: Cost,
        record entry: AuditEntry?,
        on eventLoop: any EventLoop
    ) -> Eventual<LedgerOutcome> {
        let cost = reservation.map { min(cost, $0.amount) } ?? .zero
        var operations: [LedgerOperation] = []
        if let reservation { operations += reservation.charges(cost) }
        if let entry { operations.append(.record(entry)) }
        if operations.isEmpty || journal(operations) {
            if let reservation { state.withLock { $0.settle(reservation, cost: cost) } }
            return .now(.done)
        }
        var jobs: [Job] = []
        if let reservation { jobs.append(.settle(reservation, cost: cost)) }
        guard let entry else {
            enqueue(jobs)
            return .now(.done)
        }
        let promise = eventLoop.makePromise(of: LedgerOutcome.self)
        jobs.append(.record(entry, text: entry.storedText, promise))
        enqueue(jobs)
        return .later(promise.futureResult)
    }

    /// Records an entry without waiting for it (requests refused before anything was spent).
    func record(_ entry: AuditEntry) {
        if !journal([.record(entry)]) { enqueue([.record(entry, text: entry.storedText, nil)]) }
    }

    /// Charges the holds of gateways no longer running (see `Store.chargeAbandonedHolds`).
    @discardableResult
    func settleAbandoned() throws(StoreError) -> Int {
        let charged = try store.chargeAbandonedHolds(isRunning: instance.isRunning)
        if charged > 0 {
            logger.warning(
                "charged the budget holds of a gateway that stopped without settling them",
                metadata: ["gatehouse.holds": "\(charged)"]
            )
        }
        return charged
    }

    /// Queues `jobs` for the ledger's thread. A `.settle` job's hold is settled here, in the same step:
    /// until its charge lands, the store's hold still has the cost, so this gateway only ever counts less
    /// free than the store has. Settled after the commit instead, requests waiting for it counted as in
    /// flight and the next ones found the hold short, a store transaction each. In one step with the
    /// queueing, so the final release at shutdown (nothing in flight, nothing queued) never comes between
    /// the two and gives back a cost whose charge is still to come. (Retries are not queued here.)
    private func enqueue(_ jobs: [Job]) {
        guard !jobs.isEmpty else { return }
        let start = state.withLock { state in
            for case .settle(let reservation, let cost) in jobs { state.settle(reservation, cost: cost) }
            state.pending.append(contentsOf: jobs)
            defer { state.draining = true }
            return !state.draining
        }
        if start { thread.submit { _ in self.drain() } }
    }

    /// Applies batches until the queue is empty; runs on the ledger's thread.
    private func drain() {
        while true {
            let now = Int64(Date().timeIntervalSince1970)
            let taken = state.withLock {
                state -> (
                    jobs: [Job], releases: [LedgerOperation.HoldKey: Cost], bounds: [LedgerOperation.HoldKey: Cost],
                    idleHeld: Bool
                )? in
                var jobs = state.retries + state.pending
                state.pending = []
                state.retries = []
                if !state.parked.isEmpty, Date() >= state.nextParkedTry {
                    // Other gateways' holds may have given back what the first one needs.
                    let first = state.parked.removeFirst()
                    jobs.append(.reserve(first.reservation, claimed: [], first.promise))
                    state.nextParkedTry = Date() + Self.parkedRetry
                }
                if jobs.isEmpty {
                    state.draining = false
                    return nil
                }
                let usable = instance.holdsUsable
                let claimed = jobs.map { Self.claim($0, holdsUsable: usable, in: &state) }
                let releases = Self.releases(for: claimed, in: &state, now: now).merging(
                    state.stranded,
                    uniquingKeysWith: +
                )
                state.stranded = [:]
                let bounds = state.bounds(for: claimed)
                let idleHeld = state.holds.values.contains { $0.inFlight == .zero && $0.held > .zero }
                return (claimed, releases, bounds, idleHeld)
            }
            guard let (jobs, releases, bounds, idleHeld) = taken else { return }
            apply(jobs, releases: releases, bounds: bounds)
            // A hold kept for requests that may come is given back once its headroom fell to zero.
            if idleHeld { scheduleRelease() }
            if state.withLock({ !$0.parked.isEmpty || !$0.stranded.isEmpty }) { scheduleParkedLook() }
        }
    }

    /// Has what the journals hold moved into the store after `delay`, unless a move is already on its way.
    private func scheduleMove(after delay: DispatchTimeInterval) {
        guard !moveScheduled.load(ordering: .relaxed),
            !moveScheduled.exchange(true, ordering: .acquiringAndReleasing)
        else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) {
            self.moveScheduled.store(false, ordering: .releasing)
            self.enqueue([.move])
        }
    }

    /// Comes back in a second for holds kept idle (a move gives back what `releases` finds free), on a
    /// timer of its own so it never delays a journal's move.
    private func scheduleRelease() {
        guard !releaseScheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(1)) {
            self.releaseScheduled.store(false, ordering: .releasing)
            self.enqueue([.move])
        }
    }

    /// Comes back soon for the parked reservations: the first asks the store, the expired are refused.
    private func scheduleParkedLook() {
        guard !parkedScheduled.exchange(true, ordering: .acquiringAndReleasing) else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.parkedRetry) {
            self.parkedScheduled.store(false, ordering: .releasing)
            self.enqueue([.move])
        }
    }

    /// Applies `operations` in one transaction together with everything the journals have that the store
    /// does not (and marks saying it has it now); returns the outcomes of `operations`. Appends meanwhile
    /// go to new journal files, so nobody waits for the store.
    private func applyMoving(_ operations: [LedgerOperation]) -> [LedgerOutcome] {
        let batch = journals?.take() ?? JournalSet.Batch()
        guard !batch.isEmpty || !operations.isEmpty else { return [] }
        let moving = Self.merged(batch.operations)
        let outcomes = store.apply(moving + operations + batch.marks)
        if case .failed(let error) = outcomes.first {
            logger.error("ledger write failed; retrying", metadata: ["gatehouse.reason": "\(error)"])
            if journals == nil { reachable.store(false, ordering: .relaxed) }
            journals?.restore(batch)
            if !batch.isEmpty { scheduleMove(after: .nanoseconds(Int(Self.retryDelay.nanoseconds))) }
            return Array(outcomes.prefix(operations.count))
        }
        journals?.moved(batch)
        return Array(outcomes[moving.count..<moving.count + operations.count])
    }

    /// Charges and releases summed per hold (one update each instead of one per request), then records.
    private static func merged(_ operations: [LedgerOperation]) -> [LedgerOperation] {
        var charges: [LedgerOperation.HoldKey: Cost] = [:]
        var releases: [LedgerOperation.HoldKey: Cost] = [:]
        var records: [LedgerOperation] = []
        for operation in operations {
            switch operation {
            case .charge(let key, let cost): charges[key, default: .zero] += cost
            case .release(let key, let amount): releases[key, default: .zero] += amount
            case .record, .hold, .inFlight, .journalMoved: records.append(operation)
            }
        }
        return charges.map { .charge($0.key, cost: $0.value) } + releases.map { .release($0.key, amount: $0.value) }
            + records
    }

    /// Makes `operations` durable in the calling loop's journal; false if it could not be written.
    private func journal(_ operations: [LedgerOperation]) -> Bool {
        guard let journals else { return false }
        switch journals.append(operations) {
        case .written(let unmoved):
            if unmoved >= Self.moveBatch { enqueue([.move]) } else { scheduleMove(after: Self.moveDelay) }
            return true
        case .failed(let error):
            logger.error("ledger journal write failed; using the store", metadata: ["gatehouse.reason": "\(error)"])
            return false
        }
    }

    /// A reservation first takes what its holds have free (all of it counts as in flight from now on);
    /// only the rest has to come from the budget.
    private static func claim(_ job: Job, holdsUsable: Bool, in state: inout State) -> Job {
        guard case .reserve(let reservation, _, let promise) = job else { return job }
        guard holdsUsable else { return .reserve(reservation, claimed: reservation.keys.map { _ in .zero }, promise) }
        let now = Int64(reservation.at.timeIntervalSince1970)
        let claimed = zip(reservation.budgets, reservation.keys).map { charge, key -> Cost in
            // Headroom taken under another limit (configuration changed it) or for an ended window is not used.
            guard var hold = state.holds[key], hold.limit == charge.limit, hold.windowEnd > now else { return .zero }
            let taken = min(hold.free, reservation.amount)
            hold.start(taken)
            state.holds[key] = hold
            return taken
        }
        return .reserve(reservation, claimed: claimed, promise)
    }

    /// What to give back of each hold: all that is free once its window has ended or its headroom
    /// (`Hold.headroom`) fell to zero (two seconds without requests), and otherwise, once more than twice
    /// its headroom is free, what is beyond the headroom; nothing of holds that a reservation of the
    /// batch or a parked one needs. Taken out of the holds at once, so nothing reserves it meanwhile.
    private static func releases(
        for jobs: [Job],
        in state: inout State,
        now: Int64
    ) -> [LedgerOperation.HoldKey: Cost] {
        var reserving: Set<LedgerOperation.HoldKey> = []
        for case .reserve(let reservation, _, _) in jobs { reserving.formUnion(reservation.keys) }
        // What parked reservations wait for is not given back to the budget.
        for parked in state.parked { reserving.formUnion(parked.reservation.keys) }
        var releases: [LedgerOperation.HoldKey: Cost] = [:]
        for key in state.holds.keys where !reserving.contains(key) {
            guard var hold = state.holds[key] else { continue }
            hold.roll(now: now)
            let free = hold.free
            // Not "nothing in flight, give it all back": with the store's commit in each request's path,
            // a batch often finds nothing in flight between two waves of a steady load, and a hold given
            // back whole made every request of the next wave grow it again. The headroom falls to zero
            // after two idle seconds; `drain` comes back for it.
            let keep = hold.windowEnd <= now ? .zero : hold.headroom
            if free > keep * 2 || (keep == .zero && free > .zero) {
                hold.held -= free - keep
                releases[key] = free - keep
            }
            state.holds[key] = hold.held == .zero && hold.inFlight == .zero ? nil : hold
        }
        return releases
    }

    private func apply(
        _ jobs: [Job],
        releases: [LedgerOperation.HoldKey: Cost],
        bounds: [LedgerOperation.HoldKey: Cost]
    ) {
        let settlements = jobs.flatMap { job -> [LedgerOperation] in
            guard case .settle(let reservation, let cost) = job else { return [] }
            return reservation.charges(cost)
        }
        var operations = Self.merged(settlements + releases.map { .release($0.key, amount: $0.value) })
        // Where each job's outcome is among the operations' outcomes.
        var positions: [Int?] = []
        for job in jobs {
            switch job {
            case .reserve(let reservation, let claimed, _):
                let needed = zip(claimed, reservation.keys).map { reservation.amount - $0.0 }
                guard needed.contains(where: { $0 > .zero }) else {
                    positions.append(nil)
                    continue
                }
                let now = Int64(reservation.at.timeIntervalSince1970)
                let wanted = state.withLock { state in
                    zip(needed, reservation.keys).map { needed, key in
                        state.holds[key]?.roll(now: now)
                        return needed + (state.holds[key]?.headroom ?? .zero)
                    }
                }
                positions.append(operations.count)
                operations.append(
                    .hold(
                        LedgerOperation.HoldRequest(
                            owner: instance.id,
                            budgets: reservation.budgets,
                            needed: needed,
                            wanted: wanted,
                            at: reservation.at
                        )
                    )
                )
            case .settle, .move: positions.append(nil)
            case .record(let entry, let text, _):
                positions.append(operations.count)
                operations.append(.record(entry, text: text))
            }
        }
        // After the holds they bound, which the batch may make.
        operations += bounds.map { .inFlight($0.key, bound: $0.value) }
        // Charges, releases and records are durable once journaled; a hold needs the store's answer, and a
        // move is due: both take what the journals have into the store with them.
        let needsStore =
            operations.contains { if case .hold = $0 { true } else { false } }
            || jobs.contains { if case .move = $0 { true } else { false } }
        let journaled = !needsStore && !operations.isEmpty && journal(operations)
        let outcomes =
            journaled ? Array(repeating: LedgerOutcome.done, count: operations.count) : applyMoving(operations)
        let failed = outcomes.first.map { if case .failed = $0 { true } else { false } } ?? false
        var completions: [(EventLoopPromise<LedgerOutcome>, LedgerOutcome)] = []
        var hopeless: [(scope: String, amount: Cost)] = []
        state.withLock { state in
            // The store has the bounds now; a hold the batch makes gets its own in `finish`.
            if !failed {
                for (key, bound) in bounds { state.holds[key]?.bound = bound }
            }
            if failed {
                // Back into the hold, which releasing may have emptied and dropped (an entry made anew
                // knows no window, so the next batch gives it all back).
                for (key, amount) in releases { state.holds[key, default: Hold()].held += amount }
            }
            for (job, position) in zip(jobs, positions) {
                switch job {
                case .reserve(let reservation, let claimed, let promise):
                    let outcome = position.map { outcomes[$0] } ?? .held(claimed.map { _ in .zero })
                    let answer = Self.finish(reservation, claimed: claimed, outcome, bounds: bounds, in: &state)
                    guard case .refused(let refusal) = answer else {
                        completions.append((promise, answer))
                        continue
                    }
                    state.strand(reservation)
                    if !refusal.mayFitLater(reservation.amount) {
                        // Nothing that needs as much can fit any more: those waiting for it stop waiting.
                        hopeless.append((refusal.scope, reservation.amount))
                        completions.append((promise, answer))
                    } else if !state.stopping, let deadline = parkingDeadline(reservation),
                        state.parked.count < Self.parkedLimit
                    {
                        // The first, asked again and still short, stays first; newcomers queue behind.
                        let waiting = Parked(
                            reservation: reservation,
                            promise: promise,
                            refusal: refusal,
                            deadline: deadline
                        )
                        let first = state.parked.first.map { reservation.at < $0.reservation.at } ?? false
                        state.parked.insert(waiting, at: first ? 0 : state.parked.endIndex)
                    } else {
                        completions.append((promise, answer))
                    }
                case .settle:
                    // Settled in memory when it finished; a charge that did not land is tried again.
                    if failed { state.retries.append(job) }
                case .record(let entry, let text, let promise):
                    let outcome = position.map { outcomes[$0] } ?? .done
                    if failed { state.retries.append(.record(entry, text: text, nil)) }
                    if let promise { completions.append((promise, outcome)) }
                case .move: break
                }
            }
            completions += unpark(in: &state, hopeless: hopeless)
        }
        Self.complete(completions)
        if failed { usleep(UInt32(Self.retryDelay.nanoseconds / 1000)) }
    }

    /// Until when `reservation` may wait for reserved money to come back; nil when that time has passed.
    private func parkingDeadline(_ reservation: BudgetReservation) -> Date? {
        let deadline = reservation.at + Double(budgetWait() / .milliseconds(1)) / 1000
        return Date() < deadline ? deadline : nil
    }

    /// Admits the parked reservations that fit in what the holds have free now, and refuses those that
    /// waited `budgetWait` and those needing at least a `hopeless` amount of its budget.
    private func unpark(
        in state: inout State,
        hopeless: [(scope: String, amount: Cost)]
    ) -> [(EventLoopPromise<LedgerOutcome>, LedgerOutcome)] {
        let now = Date()
        var answered: [(EventLoopPromise<LedgerOutcome>, LedgerOutcome)] = []
        let parked = state.parked
        state.parked = []
        for waiting in parked {
            let reservation = waiting.reservation
            if state.reserveFromHolds(reservation, now: Int64(reservation.at.timeIntervalSince1970)) {
                answered.append((waiting.promise, .done))
            } else if now >= waiting.deadline
                || hopeless.contains(where: { scope, amount in
                    reservation.amount >= amount && reservation.budgets.contains { $0.scope == scope }
                })
            {
                answered.append((waiting.promise, .refused(waiting.refusal)))
            } else {
                state.parked.append(waiting)
            }
        }
        return answered
    }

    /// Updates the holds with what became of a reservation that had to grow them, and says whether it
    /// may go ahead. One refused may still fit in what other reservations of the batch made free.
    private static func finish(
        _ reservation: BudgetReservation,
        claimed: [Cost],
        _ outcome: LedgerOutcome,
        bounds: [LedgerOperation.HoldKey: Cost],
        in state: inout State
    ) -> LedgerOutcome {
        guard case .held(let grants) = outcome else {
            for (key, taken) in zip(reservation.keys, claimed) { state.holds[key]?.end(taken, charged: .zero) }
            if case .refused = outcome,
                state.reserveFromHolds(reservation, now: Int64(reservation.at.timeIntervalSince1970))
            {
                return .done
            }
            return outcome
        }
        for index in reservation.keys.indices {
            let key = reservation.keys[index]
            var hold = state.holds[key] ?? Hold()
            hold.held += grants[index]
            hold.start(reservation.amount - claimed[index])
            hold.limit = reservation.budgets[index].limit
            hold.windowEnd = reservation.windowEnds[index]
            if let bound = bounds[key] { hold.bound = bound }
            state.holds[key] = hold
        }
        return .done
    }

    /// Completes promises with one hop per event loop, not one per promise: waking a loop from another
    /// thread costs a system call.
    private static func complete(_ completions: [(EventLoopPromise<LedgerOutcome>, LedgerOutcome)]) {
        var byLoop: [ObjectIdentifier: (any EventLoop, [(EventLoopPromise<LedgerOutcome>, LedgerOutcome)])] = [:]
        for (promise, outcome) in completions {
            let loop = promise.futureResult.eventLoop
            byLoop[ObjectIdentifier(loop), default: (loop, [])].1.append((promise, outcome))
        }
        for (loop, completions) in byLoop.values {
            loop.execute {
                for (promise, outcome) in completions { promise.succeed(outcome) }
            }
        }
    }

    /// Charges dead gateways' holds every sweep interval and, on PostgreSQL, renews this gateway's lease
    /// every second; at shutdown, waits for everything queued to land and gives back what this gateway
    /// holds. Throws when another gateway settled this one's holds (its lease was ended): it must stop.
    func run() async throws {
        let stop = DispatchSemaphore(value: 0)
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                leaseThread.submit { _ in done.resume(with: Result { try self.keepLease(until: stop) }) }
            }
        } onCancelOrGracefulShutdown: {
            stop.signal()
        }
        try await settleAtShutdown()
    }

    /// Renews the lease and sweeps until `stop` is signalled, on the lease thread: ticks timed by the
    /// concurrency pool waited behind whatever blocked its threads (a statement running to its timeout,
    /// on two cores both threads), past the point where this gateway's holds stop being usable, and
    /// every request then waited for the store.
    private func keepLease(until stop: DispatchSemaphore) throws {
        let leased = journals == nil
        let tick = leased ? GatewayInstance.renewInterval : Self.sweepInterval
        let sweepEvery = leased ? Int(Self.leasedSweepInterval / GatewayInstance.renewInterval) : 1
        var ticks = 0
        // Ticks since the store was last out of reach: a gateway back from an outage sweeps only once the
        // others have had a renewal's time to take up their leases again.
        var reachableTicks = 0
        while stop.wait(timeout: .now() + .nanoseconds(Int(tick / .nanoseconds(1)))) == .timedOut {
            ticks += 1
            if leased {
                do {
                    try instance.renew()
                    reachable.store(true, ordering: .relaxed)
                    reachableTicks += 1
                } catch  where error.code == .conflict {
                    logger.critical("\(error)")
                    throw error
                } catch {
                    reachable.store(false, ordering: .relaxed)
                    reachableTicks = 0
                    logger.error("the store cannot be reached", metadata: ["gatehouse.reason": "\(error)"])
                    continue
                }
            }
            guard ticks % sweepEvery == 0, !leased || reachableTicks > sweepEvery else { continue }
            do {
                try settleAbandoned()
            } catch {
                logger.error("could not look for abandoned budget holds", metadata: ["gatehouse.reason": "\(error)"])
            }
        }
    }

    /// Refuses the reservations waiting for budget, lets requests still in flight finish and moves the
    /// journal into the store; with nothing left, gives back the holds and ends the lease.
    private func settleAtShutdown() async throws {
        // Nothing waits for budget from now on.
        Self.complete(
            state.withLock { state in
                defer {
                    state.parked = []
                    state.stopping = true
                }
                return state.parked.map { ($0.promise, .refused($0.refusal)) }
            }
        )
        // Requests still in flight finish, then the journal goes into the store.
        var moveAsked = false
        for _ in 0..<50 {
            let idle = state.withLock { state in
                state.holds.values.allSatisfy { $0.inFlight == .zero } && !state.draining && state.pending.isEmpty
                    && state.retries.isEmpty
            }
            let moved = journals?.isMoved ?? true
            if idle && moved { break }
            if idle && !moveAsked {
                enqueue([.move])
                moveAsked = true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        let settled = state.withLock { state in
            state.holds.values.allSatisfy { $0.inFlight == .zero } && !state.draining && state.pending.isEmpty
                && state.retries.isEmpty
        }
        // With nothing in flight and everything in the store, the holds are given back and the journal
        // forgotten; otherwise both stay for the next start to settle.
        if settled && journals?.isMoved ?? true {
            do {
                try store.releaseHolds(owner: instance.id)
                journals?.removeAll()
                try store.forgetJournals(owner: instance.id)
                instance.end()
            } catch {
                logger.error("could not give back budget holds", metadata: ["gatehouse.reason": "\(error)"])
            }
        }
        try await thread.shutdownGracefully()
        try await leaseThread.shutdownGracefully()
    }
}
