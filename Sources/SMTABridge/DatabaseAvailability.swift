import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle
import SMTACore

/// Whether the database can be reached, as the bridge last saw it.
///
/// A request that meets a lost or refused connection marks the database down; from then on
/// requests are answered 503 at once (nothing waits on a pool that cannot connect), while this
/// service probes with a fresh connection every ``probeInterval`` and marks it up again as soon
/// as one opens. The pool reconnects on its own. Until the first probe succeeds the database
/// counts as down, so a bridge started before its database answers 503 rather than waiting on
/// the pool. Reading the state takes a lock, not an actor hop: every request reads it.
final class DatabaseAvailability: Service {
    /// How often a down database is probed.
    let probeInterval: Duration

    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let downSince = NIOLockedValueBox<ContinuousClock.Instant?>(.now)

    /// Creates the monitor; the database counts as down until ``run()`` first reaches it.
    init(configuration: PostgresConnection.Configuration, probeInterval: Duration = .milliseconds(500), logger: Logger) {
        self.configuration = configuration
        self.probeInterval = probeInterval
        self.logger = logger
    }

    /// Whether the database is currently known to be unreachable.
    var isDown: Bool { downSince.withLockedValue { $0 != nil } }

    /// Records that a request could not reach the database.
    func reportUnreachable(_ error: DatabaseError) {
        let marked = downSince.withLockedValue { since in
            guard since == nil else { return false }
            since = .now
            return true
        }
        if marked {
            logger.warning("database unreachable; answering 503 until it returns", metadata: ["error": "\(error)"])
        }
    }

    /// Probes while the database is down, until graceful shutdown.
    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if self.isDown, await self.probe() {
                    self.markUp()
                }
                try? await Task.sleep(for: self.probeInterval)
            }
        }
    }

    private func markUp() {
        guard let since = downSince.withLockedValue({ since in defer { since = nil }; return since }) else { return }
        logger.notice("database reachable again", metadata: ["down_for": "\(since.duration(to: .now))"])
    }

    private func probe() async -> Bool {
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            let answered = (try? await connection.guardedQuery("select 1", logger: logger)) != nil
            try? await connection.close()
            return answered
        } catch {
            return false
        }
    }
}
