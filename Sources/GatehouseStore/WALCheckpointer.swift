import Foundation
import GRDB

/// Copies the write-ahead log back into the database file from a connection and a thread of its own,
/// so the connection that commits never stops to do it: SQLite's automatic checkpoint runs inside the
/// commit that crosses its threshold, and with a busy ledger that commit (and every request waiting on
/// it) would stall for the whole copy. A passive checkpoint never waits for writers or readers; what it
/// cannot copy yet, the next one does.
///
/// Unchecked: the timer is only touched when made and when cancelled at `deinit`.
final class WALCheckpointer: @unchecked Sendable {
    static let interval = DispatchTimeInterval.milliseconds(500)

    private let connection: DatabaseQueue
    private let timer: any DispatchSourceTimer

    init(path: String) throws {
        var configuration = Configuration()
        configuration.label = "gatehouse-checkpoint"
        connection = try DatabaseQueue(path: path, configuration: configuration)
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "gatehouse.checkpoint"))
        self.timer = timer
        timer.setEventHandler { [connection] in
            _ = try? connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        }
        timer.schedule(deadline: .now() + Self.interval, repeating: Self.interval, leeway: .milliseconds(100))
        timer.resume()
    }

    deinit { timer.cancel() }
}
