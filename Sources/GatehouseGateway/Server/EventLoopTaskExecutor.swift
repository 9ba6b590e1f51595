import NIOCore

/// Runs a task's jobs on one event loop. Token verification runs here, on the connection's own loop,
/// so a request never waits for the shared cooperative threads (which other work can keep busy) and
/// needs no hop back to the loop afterwards.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// One executor per loop of a group, made once and kept for the life of the server.
    struct Table: Sendable {
        private let executors: [ObjectIdentifier: EventLoopTaskExecutor]

        init(group: any EventLoopGroup) {
            var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
            for loop in group.makeIterator() {
                executors[ObjectIdentifier(loop)] = EventLoopTaskExecutor(eventLoop: loop)
            }
            self.executors = executors
        }

        /// The executor of `loop`, or nil for a loop outside the group.
        func executor(for loop: any EventLoop) -> EventLoopTaskExecutor? {
            executors[ObjectIdentifier(loop)]
        }
    }
}
