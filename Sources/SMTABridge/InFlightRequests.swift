import NIOConcurrencyHelpers

/// Counts the calls in flight against the pool's size, to tell a call that will find a free
/// connection from one that may queue.
final class InFlightRequests: Sendable {
    private let capacity: Int
    private let count = NIOLockedValueBox(0)

    /// Creates a counter for a pool of `capacity` connections.
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Counts a call in; true when it fits within the capacity. Always pair with ``leave()``.
    func enter() -> Bool {
        count.withLockedValue { count in
            count += 1
            return count <= capacity
        }
    }

    /// The calls in flight now, and how many of them exceed the capacity (and so may be waiting
    /// for a connection).
    var counts: (inFlight: Int, waiting: Int) {
        count.withLockedValue { ($0, max(0, $0 - capacity)) }
    }

    /// Counts a call out.
    func leave() {
        count.withLockedValue { $0 -= 1 }
    }
}
