import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Bounds work by cancelling it at a deadline.
///
/// Everything the bridge awaits ends promptly on cancellation: a wait for a pooled connection is
/// abandoned, a statement already sent is stopped by closing its connection
/// (`PostgresConnection.guardedQuery`), a key fetch is abandoned. So a deadline needs no race
/// between the work and a timer, whose loser would still have to be awaited: the work is
/// cancelled when its time is up, and answers for itself (it knows whether its statement was
/// sent, which decides between "not applied" and "outcome unknown").
enum Deadline {
    /// Runs `work` in a child task that is cancelled once `duration` has passed, and returns
    /// what it returns.
    ///
    /// The timer is an event-loop timer, and the child an `async let`: `Task.sleep` would go
    /// through Dispatch's timer thread, and a task group costs a heap allocation.
    static func run<T: Sendable>(within duration: Duration, _ work: @escaping @Sendable () async -> T) async -> T {
        let alarm = CancellationAlarm()
        let loop = MultiThreadedEventLoopGroup.currentEventLoop ?? MultiThreadedEventLoopGroup.singleton.any()
        let timer = loop.scheduleTask(in: TimeAmount(duration)) { alarm.ring() }
        async let outcome = alarm.watching(work)
        let value = await outcome
        timer.cancel()
        return value
    }
}

/// Cancels the task it watches when rung.
///
/// `UnsafeCurrentTask` may only be used while its task runs: the lock makes ``ring()`` and the
/// end of ``watching(_:)`` exclusive, so the task is cancelled only while `watching` still runs
/// in it.
private final class CancellationAlarm: @unchecked Sendable {
    private let lock = NIOLock()
    private var task: UnsafeCurrentTask?
    private var rung = false

    /// Runs `work` in the current task, cancelling it if the alarm rings meanwhile (or rang
    /// before).
    func watching<T>(_ work: () async -> T) async -> T {
        withUnsafeCurrentTask { current in
            lock.withLock {
                task = current
                if rung { current?.cancel() }
            }
        }
        defer { lock.withLock { task = nil } }
        return await work()
    }

    /// Cancels the watched task, now or as soon as it starts.
    func ring() {
        lock.withLock {
            rung = true
            task?.cancel()
        }
    }
}
