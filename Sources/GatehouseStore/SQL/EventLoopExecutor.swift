import NIOCore

/// Runs a task's jobs on an event loop. The store's PostgreSQL calls are made from threads that wait
/// for them (the ledger's, a command's), some of them Swift concurrency's: an asynchronous call of the
/// driver run on that pool could wait for a thread the waiting callers hold, and never run.
final class EventLoopExecutor: TaskExecutor {
    private let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}
