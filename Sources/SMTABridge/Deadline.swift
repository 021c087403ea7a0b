/// Runs work against a deadline without waiting for work that ignores cancellation.
enum Deadline {
    /// Runs `operation`; returns its result, or nil when `duration` passed first (the operation
    /// is then cancelled and left to finish on its own).
    static func run<T: Sendable>(
        within duration: Duration, _ operation: @escaping @Sendable () async throws -> T
    ) async -> Result<T, any Error>? {
        let race = Race<T>()
        let work = Task {
            let result: Result<T, any Error>
            do {
                result = .success(try await operation())
            } catch {
                result = .failure(error)
            }
            await race.finish(result)
        }
        let timer = Task {
            try await Task.sleep(for: duration)
            await race.finish(nil)
        }
        let outcome = await race.outcome()
        timer.cancel()
        if outcome == nil {
            work.cancel()
        }
        return outcome
    }
}

/// The first of two finishers wins.
private actor Race<T: Sendable> {
    private var result: Result<T, any Error>??
    private var waiter: CheckedContinuation<Result<T, any Error>?, Never>?

    func finish(_ value: Result<T, any Error>?) {
        guard result == nil else { return }
        result = .some(value)
        waiter?.resume(returning: value)
        waiter = nil
    }

    func outcome() async -> Result<T, any Error>? {
        if let result {
            return result
        }
        return await withCheckedContinuation { waiter = $0 }
    }
}
