import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// A PostgresNIO connection pool that can be swapped for a fresh one when the database comes back
/// from an outage.
///
/// While PostgreSQL is unreachable, PostgresNIO's pool keeps retrying one connection with an
/// exponential backoff (100 ms × 1.25ⁿ, up to a minute) behind a circuit breaker, and requests
/// wait for that connection. When the database returns, the pool notices only at its next
/// attempt: measured, a bridge served again 4–9 s after a 45–90 s outage, while its own watch
/// connection had seen the database within a quarter of a second. ``renew()`` replaces the
/// pool by a new one, which connects at once, and shuts the old one down.
///
/// ``client`` is read under a lock on every use, so callers always lease from the current pool.
public final class RenewablePool: Sendable {
    private struct State {
        var client: PostgresClient
        /// The task running `client`, once ``run()`` started.
        var runner: Task<Void, Never>?
        var stopped = false
    }

    private let configuration: PostgresClient.Configuration
    private let logger: Logger
    private let state: NIOLockedValueBox<State>

    /// Creates the pool; nothing connects before ``run()``.
    /// - Parameters:
    ///   - configuration: the configuration of every pool made, the first and the renewed ones.
    ///   - logger: the pools' background logger.
    public init(configuration: PostgresClient.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        state = NIOLockedValueBox(State(client: PostgresClient(configuration: configuration, backgroundLogger: logger)))
    }

    /// The current pool.
    public var client: PostgresClient {
        state.withLockedValue { $0.client }
    }

    /// Leases a connection of the current pool for `body` (`PostgresClient.withConnection`).
    public func withConnection<Result>(
        isolation: isolated (any Actor)? = #isolation, _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await client.withConnection(isolation: isolation, body)
    }

    /// Replaces the current pool by a new one, which starts connecting at once, and shuts the old
    /// one down: requests waiting in it fail (nothing was sent for them), its connections close.
    /// Does nothing before ``run()`` or after it ended.
    public func renew() {
        let retired = state.withLockedValue { state -> Task<Void, Never>? in
            guard !state.stopped, let old = state.runner else { return nil }
            let fresh = PostgresClient(configuration: configuration, backgroundLogger: logger)
            state.client = fresh
            state.runner = Task { await fresh.run() }
            return old
        }
        retired?.cancel()
    }

    /// Runs the current pool, and each one that replaces it, until the calling task is cancelled;
    /// then shuts the current one down and returns once it has. Call once.
    public func run() async {
        state.withLockedValue { state in
            precondition(state.runner == nil && !state.stopped, "RenewablePool.run() is called once")
            let client = state.client
            state.runner = Task { await client.run() }
        }
        // Until cancelled: an AsyncStream's iteration ends when its task is cancelled.
        let (cancelled, continuation) = AsyncStream<Never>.makeStream()
        for await _ in cancelled {}
        withExtendedLifetime(continuation) {}
        let last = state.withLockedValue { state -> Task<Void, Never>? in
            state.stopped = true
            return state.runner
        }
        last?.cancel()
        await last?.value
    }
}
