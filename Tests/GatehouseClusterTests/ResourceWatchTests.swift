import Testing

@testable import GatehouseCluster

/// The list-then-watch loop, driven by hand: each event and the instant it happens at, no I/O, no sleeping.
@Suite("resource watch")
struct ResourceWatchTests {
    typealias Watch = ResourceWatch<ContinuousClock.Instant>
    let t0 = ContinuousClock.now

    @Test func listThenWatchFromTheListsVersionAndResumeFromTheLastEventOrBookmark() {
        var watch = Watch()
        #expect(watch.start == .list)
        #expect(watch.handle(.listed(resourceVersion: "100"), now: t0) == .watch(from: "100"))
        #expect(watch.handle(.progressed(resourceVersion: "105"), now: t0) == nil)
        // A bookmark moves the version on without an object.
        #expect(watch.handle(.progressed(resourceVersion: "230"), now: t0) == nil)
        // The server ends the watch (timeoutSeconds): open it again at once, where it left off.
        #expect(watch.handle(.watchEnded, now: t0) == .watch(from: "230"))
    }

    @Test func goneMeansListAgain() {
        var watch = Watch()
        _ = watch.handle(.listed(resourceVersion: "100"), now: t0)
        #expect(watch.handle(.expired, now: t0) == .list)
        #expect(watch.resourceVersion == nil)
        // Had the relist failed, the retry lists again rather than watching a version known to be gone.
        #expect(watch.handle(.failed, now: t0) == .wait(until: t0 + .milliseconds(800)))
        #expect(watch.handle(.timerFired, now: t0 + .milliseconds(800)) == .list)
        #expect(watch.handle(.listed(resourceVersion: "900"), now: t0) == .watch(from: "900"))
    }

    @Test func failuresBackOffFromEightHundredMillisecondsDoublingToThirtySeconds() {
        var watch = Watch()
        _ = watch.handle(.listed(resourceVersion: "7"), now: t0)
        var now = t0
        var waits: [Duration] = []
        for _ in 0..<8 {
            #expect(
                watch.backoffAfterOneMoreFailure == (waits.last.map { min($0 * 2, .seconds(30)) } ?? .milliseconds(800))
            )
            guard case .wait(let until) = watch.handle(.failed, now: now) else {
                Issue.record("expected a wait")
                return
            }
            waits.append(now.duration(to: until))
            now = until
            #expect(watch.handle(.timerFired, now: now) == .watch(from: "7"))
        }
        #expect(
            waits == [
                .milliseconds(800), .milliseconds(1600), .milliseconds(3200), .milliseconds(6400),
                .milliseconds(12800), .milliseconds(25600), .seconds(30), .seconds(30),
            ]
        )
        // Progress resets the backoff.
        _ = watch.handle(.progressed(resourceVersion: "8"), now: now)
        #expect(watch.handle(.failed, now: now) == .wait(until: now + .milliseconds(800)))
    }

    @Test func aStrayTimerDoesNothing() {
        var watch = Watch()
        _ = watch.handle(.listed(resourceVersion: "1"), now: t0)
        #expect(watch.handle(.timerFired, now: t0) == nil)
        #expect(watch.handle(.progressed(resourceVersion: ""), now: t0) == nil)
        #expect(watch.resourceVersion == "1")
    }
}
