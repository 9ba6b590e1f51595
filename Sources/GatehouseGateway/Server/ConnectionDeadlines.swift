import NIOCore

/// The deadlines of one client connection, with time passed in: the idle timeout between requests,
/// the header deadline from a request's first byte, and the minimum rate of a request's body, checked
/// once per window. `ConnectionHandler` feeds it what happens and carries out what it answers with its
/// event loop's clock and timers; tests drive it with instants of their own.
///
/// Timers start only when a read burst ends with a phase unfinished: a request that arrives in one
/// burst, as nearly all do, schedules none. The idle timer is one per connection and re-armed lazily:
/// when it fires early (the connection was busy in between) it asks to be armed again for the rest.
struct ConnectionDeadlines {
    enum Timer: Sendable, Hashable {
        case idle
        case header
        case bodyRate
    }

    enum Action: Sendable, Hashable {
        case none
        /// Schedule `timer` to fire at the deadline (replacing that timer if it is scheduled).
        case arm(Timer, at: NIODeadline)
        /// Cancel the header or body-rate timer, if scheduled.
        case cancelPhaseTimer
        /// The connection sat idle too long: close it without an answer.
        case close
        /// The head did not arrive in time: answer 408 below the HTTP decoder, which has no request.
        case headerTimedOut
        /// The body arrived below the minimum rate: answer 408 to the request.
        case bodyTooSlow
    }

    private enum Phase {
        /// Between requests; `since` is when the last one ended, `headStarted` the first byte of the next.
        case idle(since: NIODeadline, headStarted: NIODeadline?)
        /// The head was admitted; `bytes` of body arrived in the current window.
        case body(bytes: Int)
        /// With the responder, or refused: no deadline of this type runs.
        case busy
    }

    private(set) var limits: RequestLimits
    private var phase: Phase
    /// The header or body-rate timer, while scheduled.
    private var phaseTimer: Timer?
    private var idleTimerArmed = false

    init(limits: RequestLimits, now: NIODeadline) {
        self.limits = limits
        self.phase = .idle(since: now, headStarted: nil)
    }

    /// Waiting for the next request, under `limits` (they follow configuration reloads).
    mutating func awaitRequest(limits: RequestLimits, now: NIODeadline) -> Action {
        self.limits = limits
        phase = .idle(since: now, headStarted: nil)
        guard !idleTimerArmed else { return .none }
        idleTimerArmed = true
        return .arm(.idle, at: now + TimeAmount(limits.idleTimeout))
    }

    /// The first bytes after `awaitRequest`: the header deadline runs from here.
    mutating func bytesArrived(now: NIODeadline) {
        guard case .idle(let since, nil) = phase else { return }
        phase = .idle(since: since, headStarted: now)
    }

    /// A head was admitted: its body is read next.
    mutating func headAdmitted() -> Action {
        phase = .body(bytes: 0)
        return cancelPhaseTimer()
    }

    mutating func bodyArrived(bytes: Int) {
        guard case .body(let count) = phase else { return }
        phase = .body(bytes: count + bytes)
    }

    /// The request went to the responder, or was refused: no deadline here until `awaitRequest`.
    mutating func busy() -> Action {
        phase = .busy
        return cancelPhaseTimer()
    }

    /// A read burst ended: the phase still unfinished gets its timer, unless it has one.
    mutating func readComplete(now: NIODeadline) -> Action {
        guard phaseTimer == nil else { return .none }
        switch phase {
        case .idle(_, let started?):
            phaseTimer = .header
            return .arm(.header, at: started + TimeAmount(limits.headerTimeout))
        case .body:
            phaseTimer = .bodyRate
            return .arm(.bodyRate, at: now + TimeAmount(limits.bodyRateWindow))
        case .idle(_, nil), .busy:
            return .none
        }
    }

    /// `timer` fired at `now`.
    mutating func fired(_ timer: Timer, now: NIODeadline) -> Action {
        switch timer {
        case .idle:
            idleTimerArmed = false
            // Busy in between: the next awaitRequest arms a new timer.
            guard case .idle(let since, nil) = phase else { return .none }
            let deadline = since + TimeAmount(limits.idleTimeout)
            if deadline <= now { return .close }
            idleTimerArmed = true
            return .arm(.idle, at: deadline)
        case .header:
            guard phaseTimer == .header else { return .none }
            phaseTimer = nil
            guard case .idle(_, .some) = phase else { return .none }
            phase = .busy
            return .headerTimedOut
        case .bodyRate:
            guard phaseTimer == .bodyRate else { return .none }
            phaseTimer = nil
            guard case .body(let bytes) = phase else { return .none }
            if Double(bytes) < Double(limits.minBodyBytesPerSecond) * (limits.bodyRateWindow / .seconds(1)) {
                phase = .busy
                return .bodyTooSlow
            }
            phase = .body(bytes: 0)
            phaseTimer = .bodyRate
            return .arm(.bodyRate, at: now + TimeAmount(limits.bodyRateWindow))
        }
    }

    private mutating func cancelPhaseTimer() -> Action {
        guard phaseTimer != nil else { return .none }
        phaseTimer = nil
        return .cancelPhaseTimer
    }
}
