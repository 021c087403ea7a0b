import Logging
import NIOConcurrencyHelpers
import NIOCore
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
/// A check can also go unanswered because this process is too busy to read the answer in time
/// (its event loops flooded by requests): then the pool's own calls, sent after the check, keep
/// being answered. So a check that times out while calls the pool sent after it were answered
/// (`answeredSince`) does not mark the database down: the watch connection, which the timeout
/// closed, is reopened instead, and a reopening that fails while no call sent since was answered
/// marks it down. A stalled database or network answers nothing sent after the stall: it is
/// marked down as before, or one ``answerTimeout`` later when calls sent after the check were
/// answered just before the stall began.
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
    private let answeredSince: @Sendable (NIODeadline) -> Bool
    private let check: PostgresQuery

    /// Creates the monitor; the database counts as down until ``run()`` first reaches it. Each
    /// later transition from reachable to unreachable is counted in `metrics`.
    /// - Parameters:
    ///   - check: the statement each check runs (`select 1`).
    ///   - answeredSince: whether the database answered a call the pool sent at or after an
    ///     instant (`RenewablePool.answered(since:)`); never, by default.
    ///   - onReturn: called when the database is reached after being unreachable (at start-up
    ///     too), with how long it was, before requests see it reachable.
    init(
        configuration: PostgresConnection.Configuration, checkInterval: Duration = .seconds(1),
        probeInterval: Duration = .milliseconds(250), answerTimeout: Duration = .seconds(2), check: PostgresQuery = "select 1",
        metrics: BridgeMetrics, logger: Logger, answeredSince: @escaping @Sendable (NIODeadline) -> Bool = { _ in false },
        onReturn: @escaping @Sendable (_ downFor: Duration) -> Void = { _ in }
    ) {
        self.onReturn = onReturn
        self.answeredSince = answeredSince
        self.check = check
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
        if error.meansDatabaseUnreachable {
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
                let attempt = NIODeadline.now()
                guard let connection = await self.connect() else {
                    // Reopening after a check given up under load: down unless the pool's
                    // calls are still answered.
                    if !self.isDown && !self.answeredSince(attempt) {
                        self.reportUnreachable(
                            DatabaseError(sqlState: nil, message: "the watch connection could not be reopened within \(self.answerTimeout)"))
                    }
                    try? await Task.sleep(for: self.probeInterval)
                    continue
                }
                self.markReachable()
                // While a check runs, its outcome says what a close means (a lost connection
                // fails it; a check given up closes the connection itself); at shutdown, nothing.
                let closeIsJudged = NIOLockedValueBox(false)
                connection.closeFuture.whenComplete { _ in
                    if !closeIsJudged.withLockedValue({ $0 }) {
                        self.reportUnreachable(DatabaseError(sqlState: nil, message: "the server closed the watch connection"))
                    }
                }
                // Until the checks fail or the server closes the connection, whichever comes
                // first: a closed connection is replaced at once, not at the next check.
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.watch(connection, closeIsJudged: closeIsJudged) }
                    group.addTask { _ = try? await connection.closeFuture.get() }
                    await group.next()
                    group.cancelAll()
                    if Task.isCancelled {
                        closeIsJudged.withLockedValue { $0 = true }
                    }
                    try? await connection.close()
                }
            }
        }
    }

    /// Checks `connection` until it fails, stalls or the task is cancelled; each answered check
    /// marks the database reachable (a request may have marked it down meanwhile). A check given
    /// up while the pool's calls were answered returns without marking anything: the caller
    /// opens a new watch connection.
    private func watch(_ connection: PostgresConnection, closeIsJudged: NIOLockedValueBox<Bool>) async {
        while !Task.isCancelled {
            do {
                // While a request has marked it down, check sooner: the connection it lost may
                // have been the only one (a terminated backend).
                try await Task.sleep(for: isDown ? probeInterval : checkInterval)
            } catch {
                return
            }
            let (logger, check) = (logger, check)
            closeIsJudged.withLockedValue { $0 = true }
            let sent = NIODeadline.now()
            let failure: DatabaseError? = await Deadline.run(within: answerTimeout) {
                do {
                    _ = try await connection.guardedQuery(check, logger: logger)
                    return nil
                } catch {
                    return DatabaseError(error)
                }
            }
            if Task.isCancelled {
                return
            }
            if let failure {
                if failure.isTimeout && answeredSince(sent) {
                    logger.notice(
                        "the database check got no answer within \(answerTimeout), but the pool's calls sent after it did: this process is too busy to read the check in time; the database stays up and the watch reconnects")
                    return
                }
                reportUnreachable(failure.isTimeout ? DatabaseError(sqlState: nil, message: "no answer to the check within \(answerTimeout)") : failure)
                return
            }
            closeIsJudged.withLockedValue { $0 = false }
            if connection.isClosed {
                // Closed between the answer and now: the close handler saw it as judged.
                reportUnreachable(DatabaseError(sqlState: nil, message: "the server closed the watch connection"))
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
