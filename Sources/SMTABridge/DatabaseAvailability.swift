import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle
import SMTACore

/// Whether the database can be reached, as the bridge sees it, kept by a watch connection of
/// its own.
///
/// The service holds one connection open and runs `select 1` on it every ``checkInterval``;
/// when the server closes it (a restart, a shutdown) the database is marked down at that moment,
/// before any request has to find out. While it is down, requests are answered 503 at once and
/// the service reconnects every ``probeInterval``; a request that meets a lost connection marks
/// it down too. Until the first connection opens the database counts as down, so a bridge started
/// before its database answers 503 rather than waiting on the pool.
///
/// For ``recoveryWindow`` after an outage the database is *recovering*: the pool may still be
/// waiting out its reconnection backoff, so requests then run under a short time budget and get
/// 503 if no connection comes. Reading the state takes a lock, not an actor hop: every request
/// reads it.
final class DatabaseAvailability: Service {
    /// The state as requests see it.
    enum State: Sendable, Equatable {
        /// Reachable, no outage recently.
        case up
        /// Unreachable since the instant given.
        case down(since: ContinuousClock.Instant)
        /// Reachable again after an outage, since the instant given.
        case recovering(since: ContinuousClock.Instant)
    }

    /// How often the watch connection is checked while the database is up.
    let checkInterval: Duration
    /// How often a down database is probed.
    let probeInterval: Duration
    /// How long after an outage requests run under the recovery budget.
    let recoveryWindow: Duration

    private let configuration: PostgresConnection.Configuration
    private let metrics: BridgeMetrics
    private let logger: Logger
    private let current = NIOLockedValueBox<State>(.down(since: .now))

    /// Creates the monitor; the database counts as down until ``run()`` first reaches it. Each
    /// later transition from reachable to unreachable is counted in `metrics`.
    init(
        configuration: PostgresConnection.Configuration, checkInterval: Duration = .seconds(1),
        probeInterval: Duration = .milliseconds(250), recoveryWindow: Duration = .seconds(60), metrics: BridgeMetrics,
        logger: Logger
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.checkInterval = checkInterval
        self.probeInterval = probeInterval
        self.recoveryWindow = recoveryWindow
        self.logger = logger
    }

    /// The current state.
    var state: State {
        current.withLockedValue { state in
            if case .recovering(let since) = state, since.duration(to: .now) > recoveryWindow {
                state = .up
            }
            return state
        }
    }

    /// Whether the database is currently known to be unreachable.
    var isDown: Bool {
        if case .down = state { return true }
        return false
    }

    /// Records that the database could not be reached.
    func reportUnreachable(_ error: DatabaseError) {
        let marked = current.withLockedValue { state in
            if case .down = state { return false }
            state = .down(since: .now)
            return true
        }
        if marked {
            metrics.recordOutage()
            logger.warning("database unreachable; answering 503 until it returns", metadata: ["error": "\(error)"])
        }
    }

    /// Watches the database until graceful shutdown.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                guard let connection = await self.connect() else {
                    try? await Task.sleep(for: self.probeInterval)
                    continue
                }
                self.markReachable()
                let shuttingDown = NIOLockedValueBox(false)
                connection.closeFuture.whenComplete { _ in
                    if !shuttingDown.withLockedValue({ $0 }) {
                        self.reportUnreachable(DatabaseError(sqlState: nil, message: "the server closed the watch connection"))
                    }
                }
                await self.watch(connection)
                shuttingDown.withLockedValue { $0 = Task.isCancelled }
                try? await connection.close()
            }
        }
    }

    /// Checks `connection` until it fails or the task is cancelled.
    private func watch(_ connection: PostgresConnection) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: checkInterval)
                _ = try await connection.guardedQuery("select 1", logger: logger)
            } catch is CancellationError {
                return
            } catch {
                reportUnreachable(DatabaseError(error))
                return
            }
        }
    }

    private func markReachable() {
        let previous = current.withLockedValue { state -> State in
            defer { if case .down = state { state = .recovering(since: .now) } }
            return state
        }
        if case .down(let since) = previous {
            logger.notice("database reachable", metadata: ["unreachable_for": "\(since.duration(to: .now))"])
        }
    }

    private func connect() async -> PostgresConnection? {
        try? await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
    }
}
