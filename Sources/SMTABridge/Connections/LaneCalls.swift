import NIOConcurrencyHelpers
import ServiceLifecycle

/// The tasks in which ``RPCLane`` answers calls, so that a graceful shutdown treats them as it
/// treats the requests Hummingbird answers.
///
/// Hummingbird answers a request inside its connection's task, which its server waits for (and
/// cancels past `drain_timeout`). A lane call runs in a task of its own; a client that goes
/// away ends its connection at once, and the server could look drained while the call still
/// uses the pool. As a service (after the pool among the application's services, so stopped
/// before it), ``run()`` waits through a graceful shutdown until no call runs, and cancels the
/// calls when cancelled itself: each then answers for itself, as its `Deadline` does.
final class LaneCalls: Service, Sendable {
    private struct State {
        var tasks: [Int: Task<Void, Never>] = [:]
        /// Tasks that ended before they were recorded.
        var ended: Set<Int> = []
        var running = 0
        var nextID = 0
        var cancelling = false
        var idleWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    /// Creates an empty set of calls.
    init() {}

    /// Runs `work` in a task of its own, counted until it ends.
    func run(_ work: @escaping @Sendable () async -> Void) {
        let id = state.withLockedValue { state -> Int in
            state.nextID += 1
            state.running += 1
            return state.nextID
        }
        let task = Task {
            await work()
            self.end(id)
        }
        let cancelNow = state.withLockedValue { state -> Bool in
            if state.ended.remove(id) != nil {
                return false
            }
            state.tasks[id] = task
            return state.cancelling
        }
        if cancelNow {
            task.cancel()
        }
    }

    /// How many calls run now.
    var running: Int {
        state.withLockedValue { $0.running }
    }

    private func end(_ id: Int) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            if state.tasks.removeValue(forKey: id) == nil {
                state.ended.insert(id)
            }
            state.running -= 1
            guard state.running == 0 else { return [] }
            defer { state.idleWaiters = [] }
            return state.idleWaiters
        }
        for waiter in waiters {
            waiter.resume()
        }
    }

    /// Returns once no call runs.
    func waitUntilIdle() async {
        await withCheckedContinuation { continuation in
            let idle = state.withLockedValue { state -> Bool in
                if state.running == 0 { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if idle {
                continuation.resume()
            }
        }
    }

    /// Cancels every call running, and every call started from now on.
    func cancelAll() {
        let tasks = state.withLockedValue { state -> [Task<Void, Never>] in
            state.cancelling = true
            return Array(state.tasks.values)
        }
        for task in tasks {
            task.cancel()
        }
    }

    /// Waits for a graceful shutdown, then until no call runs; cancelled (a shutdown past
    /// `drain_timeout`, or no graceful shutdown at all), cancels the calls and still waits for
    /// them to answer.
    func run() async throws {
        await withTaskCancellationHandler {
            try? await gracefulShutdown()
            await waitUntilIdle()
        } onCancel: {
            cancelAll()
        }
    }
}
