import NIOConcurrencyHelpers

/// Counts the RPC calls in flight against the pool's size, for the metrics: how many are being
/// answered, and how many of them exceed the pool (and so may be waiting for a connection).
final class InFlightRequests: Sendable {
    private let capacity: Int
    private let count = NIOLockedValueBox(0)

    /// Creates a counter for a pool of `capacity` connections.
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Runs `work` counted in.
    func counting<T>(_ work: () async -> T) async -> T {
        count.withLockedValue { $0 += 1 }
        defer { count.withLockedValue { $0 -= 1 } }
        return await work()
    }

    /// The calls in flight now, and how many of them exceed the capacity (and so may be waiting
    /// for a connection).
    var counts: (inFlight: Int, waiting: Int) {
        count.withLockedValue { ($0, max(0, $0 - capacity)) }
    }
}
