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
/// before any request has to find out, and when the check gets no answer within ``answerTimeout``
/// (a stalled network: no FIN, no RST) it is marked down then. While it is down, requests are
/// answered 503 at once and the service reconnects every ``probeInterval``, each attempt bounded
/// by ``answerTimeout`` too; a request that meets a lost connection marks it down as well, and the
/// next successful check (within ``probeInterval`` then) marks it up again. Until the first connection opens the database counts
/// as down, so a bridge started before its database answers 503 rather than waiting on the pool.
///
/// Reading the state takes a lock, not an actor hop: every request reads it.
final class DatabaseAvailability: Service {
    /// The state as requests see it.
    enum State: Sendable, Equatable {
        /// Reachable.
        case up
        /// Unreachable since the instant given.
        case down(since: ContinuousClock.Instant)
    }

    /// How often the watch connection is checked while the database is up.
    let checkInterval: Duration
    /// How often a down database is probed.
    let probeInterval: Duration
    /// How long a check or a connection attempt may wait for the server.
    let answerTimeout: Duration

    private let configuration: PostgresConnection.Configuration
    private let metrics: BridgeMetrics
    private let logger: Logger
    private let current = NIOLockedValueBox<State>(.down(since: .now))
    private let onReturn: @Sendable (_ downFor: Duration) -> Void

    /// Creates the monitor; the database counts as down until ``run()`` first reaches it. Each
    /// later transition from reachable to unreachable is counted in `metrics`.
    /// - Parameter onReturn: called when the database is reached after being unreachable (at
    ///   start-up too), with how long it was, before requests see it reachable.
    init(
        configuration: PostgresConnection.Configuration, checkInterval: Duration = .seconds(1),
        probeInterval: Duration = .milliseconds(250), answerTimeout: Duration = .seconds(2), metrics: BridgeMetrics,
        logger: Logger, onReturn: @escaping @Sendable (_ downFor: Duration) -> Void = { _ in }
    ) {
        self.onReturn = onReturn
        self.configuration = configuration
        self.metrics = metrics
        self.checkInterval = checkInterval
        self.probeInterval = probeInterval
        self.answerTimeout = answerTimeout
        self.logger = logger
    }

    /// The current state.
    var state: State {
        current.withLockedValue { $0 }
    }

    /// Whether the database is currently known to be unreachable.
    var isDown: Bool {
        if case .down = state { return true }
        return false
    }

    /// Records a failed call: a lost connection or a server going away (`08…`, `57P01`–`57P03`)
    /// marks the database down; a timeout, or an error of the call itself, does not.
    func noteFailure(_ error: DatabaseError) {
        let lost: Bool
        if let code = error.sqlState {
            lost = code.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(code)
        } else {
            lost = !error.isTimeout
        }
        if lost {
            reportUnreachable(error)
        }
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
                // Until the checks fail or the server closes the connection, whichever comes
                // first: a closed connection is replaced at once, not at the next check.
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.watch(connection) }
                    group.addTask { _ = try? await connection.closeFuture.get() }
                    await group.next()
                    group.cancelAll()
                    shuttingDown.withLockedValue { $0 = Task.isCancelled }
                    try? await connection.close()
                }
            }
        }
    }

    /// Checks `connection` until it fails, stalls or the task is cancelled; each answered check
    /// marks the database reachable (a request may have marked it down meanwhile).
    private func watch(_ connection: PostgresConnection) async {
        while !Task.isCancelled {
            do {
                // While a request has marked it down, check sooner: the connection it lost may
                // have been the only one (a terminated backend).
                try await Task.sleep(for: isDown ? probeInterval : checkInterval)
            } catch {
                return
            }
            let logger = logger
            let failure: DatabaseError? = await Deadline.run(within: answerTimeout) {
                do {
                    _ = try await connection.guardedQuery("select 1", logger: logger)
                    return nil
                } catch {
                    return DatabaseError(error)
                }
            }
            if Task.isCancelled {
                return
            }
            if let failure {
                reportUnreachable(failure.isTimeout ? DatabaseError(sqlState: nil, message: "no answer to the check within \(answerTimeout)") : failure)
                return
            }
            markReachable()
        }
    }

    private func markReachable() {
        guard case .down(let since) = state else {
            return
        }
        let downFor = since.duration(to: .now)
        onReturn(downFor)
        current.withLockedValue { $0 = .up }
        logger.notice("database reachable", metadata: ["unreachable_for": "\(downFor)"])
    }

    /// A new watch connection, or nil when none opened within ``answerTimeout``.
    ///
    /// A connection attempt does not stop on cancellation (PostgresNIO bounds only the TCP
    /// connect, not the start-up exchange, which a stalled network holds forever), so it is
    /// abandoned at the deadline; if it opens later, it is closed.
    private func connect() async -> PostgresConnection? {
        let (configuration, logger) = (configuration, logger)
        return await Deadline.run(within: answerTimeout) {
            try? await abandoningOnCancellation {
                try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            } whenAbandoned: { connection in
                try? await connection.close()
            }
        }
    }
}
