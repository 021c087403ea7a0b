import Logging
import NIOConcurrencyHelpers
import SMTACore

/// One read replica of the database: its connection pool, the gate over that pool, and whether
/// it may serve reads now (kept by ``ReplicaLagMonitor``).
///
/// Calls on a replica go through the same `core.gate_call` as on the primary: the caller's role,
/// identity and active organization are set the same way, and row-level security answers alike.
final class ReadReplica: Sendable {
    /// What the last probe found.
    enum Health: Sendable, Equatable {
        /// Not probed yet: not used.
        case unknown
        /// Reachable and within `max_replica_lag`, behind the primary by the duration given.
        case ready(lag: Duration)
        /// Reachable but further behind than `max_replica_lag`.
        case lagging(Duration)
        /// Not reachable, or a call on it lost its connection.
        case unreachable
        /// Reachable but not in recovery (a promoted or unrelated server): never used.
        case notAReplica
    }

    /// Where it is, for logs: `host:port/database`, never credentials.
    let label: String
    /// Its connections.
    let pool: RenewablePool
    /// The gate over ``pool``.
    let gate: Gate
    /// How far behind it may be and still serve reads (`max_replica_lag`).
    let maxLag: Duration
    private let logger: Logger
    /// The last verdict, when it was reached, and whether its lag grows with time (it does not
    /// while the primary is unreachable: nothing commits).
    private let health = NIOLockedValueBox((found: Health.unknown, at: ContinuousClock.now, lagGrows: true))

    /// How old the last probe may be for the replica to serve reads: a replica whose probes
    /// stopped answering in time is not trusted on an old verdict.
    static let freshness: Duration = .seconds(3)

    /// Creates a replica over `pool` that serves reads while at most `maxLag` behind; it serves
    /// nothing before its first probe.
    init(label: String, pool: RenewablePool, gate: Gate, maxLag: Duration, logger: Logger) {
        self.label = label
        self.pool = pool
        self.gate = gate
        self.maxLag = maxLag
        self.logger = logger
    }

    /// Creates a replica at `url` with a pool of `size` connections opened with
    /// `startupParameters` (the primary pool's, so that `statement_timeout` holds there too), and
    /// a gate with the primary gate's settings and `route` (a replica behind a transaction pooler
    /// gets the timeout per transaction, as the primary does); nothing connects before the
    /// pool's first lease.
    /// - Throws: `ConfigurationError` for an unusable URL.
    convenience init(
        url: DatabaseURL, startupParameters: [(String, String)], route: ConnectionRoute, size: Int, secretsKey: String?,
        allowsAnonymousUsers: Bool, maxLag: Duration, logger: Logger
    ) throws {
        var configuration = try url.connectionConfiguration()
        configuration.options.additionalStartupParameters = startupParameters
        let pool = RenewablePool(configuration: configuration, size: size, logger: logger)
        self.init(
            label: "\(url.host ?? "localhost"):\(url.port)/\(url.database)", pool: pool,
            gate: Gate(pool: pool, secretsKey: secretsKey, allowsAnonymousUsers: allowsAnonymousUsers, logger: logger, route: route),
            maxLag: maxLag, logger: logger)
    }

    /// Whether it may serve a read now: the last probe, at most ``freshness`` ago, found it
    /// ready, and its lag now (``currentLag``) is still at most ``maxLag``.
    var isUsable: Bool {
        let verdict = health.withLockedValue { $0 }
        guard case .ready = verdict.found, let lag = Self.lagNow(verdict) else { return false }
        return verdict.at.duration(to: .now) <= Self.freshness && lag <= maxLag
    }

    /// How far behind it is now, at most: the lag the last probe measured, plus the time since
    /// while the primary could commit; nil when no probe measured it (not probed yet,
    /// unreachable, not a replica).
    var currentLag: Duration? {
        Self.lagNow(health.withLockedValue { $0 })
    }

    /// A verdict's lag now (see ``currentLag``).
    private static func lagNow(_ verdict: (found: Health, at: ContinuousClock.Instant, lagGrows: Bool)) -> Duration? {
        switch verdict.found {
        case .ready(let lag), .lagging(let lag): return lag + (verdict.lagGrows ? verdict.at.duration(to: .now) : .zero)
        case .unknown, .unreachable, .notAReplica: return nil
        }
    }

    /// Records what was found (by a probe at `at`, or by a call that lost its connection),
    /// logging when the replica starts or stops serving reads. `lagGrows`: false while the
    /// primary is unreachable, when a ready replica's lag stays what it was measured.
    func record(_ found: Health, lagGrows: Bool = true, at: ContinuousClock.Instant = .now) {
        let before = health.withLockedValue { health in
            defer { health = (found, at, lagGrows) }
            return health.found
        }
        switch (before, found) {
        case (.ready, .ready), (.lagging, .lagging), (.unreachable, .unreachable), (.notAReplica, .notAReplica), (_, .unknown):
            break
        case (_, .ready(let lag)):
            logger.notice("read replica in use", metadata: ["replica": "\(label)", "lag": "\(lag)"])
        case (_, .lagging(let lag)):
            logger.warning(
                "read replica behind max_replica_lag; reads go to the primary", metadata: ["replica": "\(label)", "lag": "\(lag)"])
        case (_, .unreachable):
            logger.warning("read replica unreachable; reads go to the primary", metadata: ["replica": "\(label)"])
        case (_, .notAReplica):
            logger.error(
                "read_database_url names a server that is not a replica in recovery; not used", metadata: ["replica": "\(label)"])
        }
    }
}
