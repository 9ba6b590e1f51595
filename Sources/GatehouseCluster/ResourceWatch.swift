/// One resource's list-then-watch loop, as client-go's reflector runs it, without I/O: fed what happened,
/// it says what to do next.
///
/// - A list gives a resourceVersion; the watch starts there, with bookmarks, so a quiet resource still
///   moves its version forward and a reconnect never replays what was seen.
/// - A watch the server ends (its `timeoutSeconds`) is opened again at once from the last version seen.
/// - 410 Gone (the version left the server's window, as an answer or as an `ERROR` event) means events
///   were missed: list again, and the caller replaces that resource's objects with the new list.
/// - Any other failure waits, 0.8 s doubling up to 30 s (client-go's backoff); progress resets it.
public struct ResourceWatch<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public enum Action: Sendable, Equatable {
        case list
        case watch(from: String)
        case wait(until: Instant)
    }

    public enum Event: Sendable {
        /// A full list was read, at this resourceVersion.
        case listed(resourceVersion: String)
        /// An ADDED, MODIFIED, DELETED or BOOKMARK event, with its object's resourceVersion.
        case progressed(resourceVersion: String)
        /// The server closed the watch normally.
        case watchEnded
        /// 410 Gone: the version is too old.
        case expired
        /// The list or watch failed (connection, 5xx, 429, 401/403 after the start).
        case failed
        /// The wait asked for is over.
        case timerFired
    }

    public static var initialBackoff: Duration { .milliseconds(800) }
    public static var maximumBackoff: Duration { .seconds(30) }

    /// The version the next watch starts from; nil until a list has succeeded.
    public private(set) var resourceVersion: String?
    /// Failures in a row.
    public private(set) var failures = 0
    private var waiting = false

    public init() {}

    /// What to do first.
    public var start: Action { .list }

    /// The next action, or nil when the I/O in flight goes on (a watch streaming events).
    public mutating func handle(_ event: Event, now: Instant) -> Action? {
        switch event {
        case .listed(let version):
            resourceVersion = version
            failures = 0
            return .watch(from: version)
        case .progressed(let version):
            if !version.isEmpty { resourceVersion = version }
            failures = 0
            return nil
        case .watchEnded:
            return resume
        case .expired:
            resourceVersion = nil
            return .list
        case .failed:
            failures += 1
            waiting = true
            return .wait(until: now.advanced(by: backoff))
        case .timerFired:
            guard waiting else { return nil }
            waiting = false
            return resume
        }
    }

    /// The wait after the current run of failures.
    public var backoff: Duration {
        var delay = ResourceWatch.initialBackoff
        for _ in 1..<max(failures, 1) {
            delay *= 2
            if delay >= ResourceWatch.maximumBackoff { return ResourceWatch.maximumBackoff }
        }
        return delay
    }

    /// The wait one more failure would bring: what a caller reports before handing in `.failed`.
    public var backoffAfterOneMoreFailure: Duration {
        var next = self
        next.failures += 1
        return next.backoff
    }

    private var resume: Action { resourceVersion.map { .watch(from: $0) } ?? .list }
}
