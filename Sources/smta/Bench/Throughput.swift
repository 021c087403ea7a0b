/// Measures operations per second: `rounds` runs of `count` operations spread over `tasks`
/// concurrent tasks; the median round is reported (these machines are noisy).
enum Throughput {
    /// The median rate, in operations per second.
    static func median(
        rounds: Int = 5, count: Int, tasks: Int = 1, _ operation: @escaping @Sendable () async throws -> Void
    ) async throws -> Double {
        var rates: [Double] = []
        for _ in 0..<rounds {
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<tasks {
                    let share = count / tasks + (task < count % tasks ? 1 : 0)
                    group.addTask {
                        for _ in 0..<share { try await operation() }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = start.duration(to: .now)
            let seconds = elapsed.inSeconds
            rates.append(Double(count) / seconds)
        }
        return rates.sorted()[rates.count / 2]
    }
}
