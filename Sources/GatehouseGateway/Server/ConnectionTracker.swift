import NIOCore
import Synchronization

/// Knows every open connection and whether it is busy, so shutdown can close idle connections at
/// once, let busy ones finish (answering `Connection: close`), and say when all are done.
final class ConnectionTracker: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: (channel: any Channel, busy: Bool)] = [:]
        var stopping = false
        var draining = false
    }

    private let state = Mutex(State())

    /// Since shutdown began: readiness fails and every response closes its connection, so clients move
    /// to other replicas, while the listeners may still accept (the shutdown delay).
    var isStopping: Bool { state.withLock { $0.stopping } }

    var busyCount: Int { state.withLock { $0.channels.values.filter(\.busy).count } }

    func opened(_ channel: any Channel) {
        let draining = state.withLock { state in
            state.channels[ObjectIdentifier(channel)] = (channel, false)
            return state.draining
        }
        if draining { channel.close(promise: nil) }
    }

    func closed(_ channel: any Channel) {
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Marks the connection busy or idle; an idle connection during a drain is closed.
    func setBusy(_ channel: any Channel, _ busy: Bool) {
        let closeNow = state.withLock { state -> Bool in
            // Through the index: setting through the optional subscript made a copy of the entry each time.
            if let index = state.channels.index(forKey: ObjectIdentifier(channel)) {
                state.channels.values[index].busy = busy
            }
            return state.draining && !busy
        }
        if closeNow { channel.close(promise: nil) }
    }

    /// Shutdown began; connections are still accepted until `drain`.
    func stop() {
        state.withLock { $0.stopping = true }
    }

    /// Starts draining: idle connections close now, busy ones after their response, new ones at once.
    func drain() {
        let idle = state.withLock { state -> [any Channel] in
            state.stopping = true
            state.draining = true
            return state.channels.values.filter { !$0.busy }.map(\.channel)
        }
        for channel in idle { channel.close(promise: nil) }
    }

    /// Closes everything still open (after the drain timeout).
    func closeAll() {
        let all = state.withLock { $0.channels.values.map(\.channel) }
        for channel in all { channel.close(promise: nil) }
    }
}
