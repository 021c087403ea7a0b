import NIOConcurrencyHelpers

/// Runs `work` in a task of its own and returns what it returns — unless the calling task is
/// cancelled first: then this throws `CancellationError` at once, and `work` goes on unobserved.
///
/// For work that cannot be stopped and need not be: a JWKS fetch that other requests share, a
/// SQLite read waiting out its busy timeout (`sqlite3_interrupt` does not end that wait).
/// Awaited directly, such work would hold a request past its deadline; awaited through this,
/// the request gives up when its task is cancelled and answers for itself, while the work ends
/// by its own timeout.
///
/// - Parameters:
///   - work: the work.
///   - whenAbandoned: given what `work` returns after the caller gave up, to dispose of it (a
///     connection that opened too late is closed).
/// - Throws: `CancellationError` when the calling task is cancelled first, else what `work`
///   throws.
public func abandoningOnCancellation<Value: Sendable>(
    _ work: @escaping @Sendable () async throws -> Value,
    whenAbandoned: (@Sendable (Value) async -> Void)? = nil
) async throws -> Value {
    try Task.checkCancellation()
    let waiter = AbandonableWait<Value>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            if waiter.install(continuation) {
                Task {
                    let outcome: Result<Value, any Error>
                    do {
                        outcome = .success(try await work())
                    } catch {
                        outcome = .failure(error)
                    }
                    if !waiter.resume(with: outcome), case .success(let value) = outcome {
                        await whenAbandoned?(value)
                    }
                }
            }
        }
    } onCancel: {
        waiter.resume(with: .failure(CancellationError()))
    }
}

/// One wait of ``abandoningOnCancellation(_:)``: resumed exactly once, by the work or by the
/// cancellation, whichever comes first — even when the cancellation comes before the
/// continuation exists.
private final class AbandonableWait<Value: Sendable>: @unchecked Sendable {
    private enum State {
        case waiting
        case installed(CheckedContinuation<Value, any Error>)
        case cancelledEarly
        case resumed
    }

    private let lock = NIOLock()
    private var state = State.waiting

    /// Keeps `continuation` for ``resume(with:)``; false (and `continuation` resumed with
    /// `CancellationError`) when the wait was cancelled before.
    func install(_ continuation: CheckedContinuation<Value, any Error>) -> Bool {
        let cancelled: Bool = lock.withLock {
            if case .cancelledEarly = state {
                state = .resumed
                return true
            }
            state = .installed(continuation)
            return false
        }
        if cancelled {
            continuation.resume(throwing: CancellationError())
        }
        return !cancelled
    }

    /// Resumes the wait with `outcome` unless it was resumed already; false when it was (the
    /// caller gave up first).
    @discardableResult
    func resume(with outcome: Result<Value, any Error>) -> Bool {
        let continuation: CheckedContinuation<Value, any Error>? = lock.withLock {
            switch state {
            case .waiting:
                state = .cancelledEarly
                return nil
            case .installed(let continuation):
                state = .resumed
                return continuation
            case .cancelledEarly, .resumed:
                return nil
            }
        }
        continuation?.resume(with: outcome)
        return continuation != nil
    }
}
