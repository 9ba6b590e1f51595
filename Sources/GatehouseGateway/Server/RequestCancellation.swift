import NIOConcurrencyHelpers
import NIOCore

/// Lets a connection abandon its request when the client goes away: whatever upstream connection
/// the request holds is closed (which ends the upstream's work), and a request not yet sent is not sent.
final class RequestCancellation: Sendable {
    private struct State {
        var upstream: (any Channel)?
        var task: Task<Void, Never>?
        var cancelled = false
    }

    private let state = NIOLockedValueBox(State())

    var isCancelled: Bool { state.withLockedValue { $0.cancelled } }

    /// Records the upstream connection in use; returns false (and closes it) when already cancelled.
    func hold(_ channel: any Channel) -> Bool {
        let cancelled = state.withLockedValue { state in
            state.upstream = channel
            return state.cancelled
        }
        if cancelled { channel.close(promise: nil) }
        return !cancelled
    }

    /// Records a task doing part of the request (token verification), cancelled with it.
    func hold(_ task: Task<Void, Never>) {
        let cancelled = state.withLockedValue { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        let (upstream, task) = state.withLockedValue { state in
            state.cancelled = true
            return (state.upstream, state.task)
        }
        upstream?.close(promise: nil)
        task?.cancel()
    }
}
