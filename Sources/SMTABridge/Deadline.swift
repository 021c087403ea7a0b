import NIOCore
import NIOPosix

/// Runs work against a deadline.
enum Deadline {
    /// Runs `work` beside a timer; returns its result, or nil when `duration` passed first. The
    /// work is then cancelled: a wait for a connection ends at once, and a statement already sent
    /// is bounded by `statement_timeout`.
    ///
    /// The timer is an event-loop timer: `Task.sleep` would go through Dispatch's timer thread,
    /// which cost the bridge about a tenth of its CPU per request.
    static func run<T: Sendable>(within duration: Duration, _ work: @escaping @Sendable () async -> T) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { await work() }
            group.addTask {
                let nanoseconds = duration.components.seconds * 1_000_000_000
                    + duration.components.attoseconds / 1_000_000_000
                let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(nanoseconds)) {}
                await withTaskCancellationHandler {
                    _ = try? await timer.futureResult.get()
                } onCancel: {
                    timer.cancel()
                }
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }
}
