import Logging
import PostgresNIO
import SMTACore

/// Measures how far each read replica is behind the primary, every ``probeInterval``, and marks
/// it usable or not (``ReadReplica/Health``).
///
/// The lag is measured in the primary's own progress, not in the servers' clocks: each probe
/// reads the primary's WAL position (`pg_current_wal_lsn()`, on a connection of its own) and
/// keeps it with the instant just before it was read, so every commit before that instant lies
/// at or before that position. A replica that has replayed (`pg_last_wal_replay_lsn()`) up to a
/// kept position holds every commit before its instant: its lag is the age of the newest
/// position it has replayed — an upper bound on how stale it can be, which keeps growing, as
/// ``ReadReplica`` judges it at each read, until a later probe finds it further. So a replica
/// whose replay stopped (paused, or its WAL stream cut) is marked lagging `max_replica_lag`
/// after the last position it replayed, however long the primary was idle before; an idle
/// primary never makes a replica that is up to date look behind (which
/// `pg_last_xact_replay_timestamp()` would); and probes that come late (a loaded machine) make a
/// replica look older, never younger. One behind every position kept is not used (lagging once
/// the oldest kept is older than `max_replica_lag`). A replica that does not answer within
/// ``answerTimeout``, or is not in recovery, is not used.
///
/// While the primary cannot be reached (the sample fails for a lost connection, not for a late
/// answer), nothing can commit on it: a replica's lag is measured up to the instant it was lost
/// and stops growing, so a replica that had replayed the last position read keeps serving reads
/// through the outage; one that had not is skipped once it is `max_replica_lag` behind that
/// instant. Before the primary was ever read, no replica is used.
struct ReplicaLagMonitor: Sendable {
    /// How often the primary and the replicas are probed.
    static let probeInterval: Duration = .seconds(1)
    /// How long one probe may wait for a server.
    static let answerTimeout: Duration = .seconds(2)
    /// What the default `replica_lag` adds to `max_replica_lag`. A replica serves a read only
    /// while its lag, judged at that read, is at most `max_replica_lag`, and the lag bounds how
    /// stale it is: so a writer's read, sent to the primary for longer than `max_replica_lag`
    /// after the write, never reaches a replica without it. The margin covers the instant the
    /// write is noted after its commit.
    static let stickinessMargin: Duration = probeInterval * 2

    /// Where the primary's WAL position is read: a pool of its own, apart from the requests'.
    let primary: RenewablePool
    let replicas: [ReadReplica]
    /// How far behind a replica may be and still serve reads.
    let maxLag: Duration
    let logger: Logger

    /// A position of the primary's WAL and an instant before it was read: every commit before
    /// `at` lies at or before `position`.
    struct Sample {
        let at: ContinuousClock.Instant
        let position: Int64
    }

    /// Probes until the calling task is cancelled.
    func run() async {
        // Kept long enough that a replica past maxLag is still measured as past it.
        let retention = maxLag * 2 + Self.probeInterval * 2
        var samples: [Sample] = []
        // When the primary was found unreachable, until it is read again.
        var lostAt: ContinuousClock.Instant?
        while !Task.isCancelled {
            let asked = ContinuousClock.now
            switch await Self.position(of: primary, logger: logger) {
            case .read(let position):
                lostAt = nil
                samples.append(Sample(at: asked, position: position))
                samples.removeAll { $0.at.duration(to: asked) > retention }
            case .unreachable:
                lostAt = lostAt ?? asked
            case .late:
                // Up, maybe committing: the replicas' lags keep growing.
                lostAt = nil
            }
            let (measured, frozenAt) = (samples, lostAt)
            await withTaskGroup(of: Void.self) { group in
                for replica in replicas {
                    group.addTask { await self.probe(replica, samples: measured, primaryLostAt: frozenAt) }
                }
            }
            do {
                try await Task.sleep(for: Self.probeInterval)
            } catch {
                return
            }
        }
    }

    /// Probes `replica` and records what it found.
    private func probe(_ replica: ReadReplica, samples: [Sample], primaryLostAt: ContinuousClock.Instant?) async {
        switch await Self.replayPosition(of: replica.pool, logger: logger) {
        case .none:
            replica.record(.unreachable)
        case .some(.none):
            replica.record(.notAReplica)
        case .some(.some(let replayed)):
            let now = ContinuousClock.now
            replica.record(
                Self.health(replayed: replayed, samples: samples, at: primaryLostAt ?? now, maxLag: maxLag),
                lagGrows: primaryLostAt == nil, at: now)
        }
    }

    /// What a replica that has replayed up to `replayed` is, at `instant`, against the primary's
    /// `samples` (oldest first): its lag is the age of the newest sample it has replayed; behind
    /// every sample, it is lagging once the oldest is older than `maxLag`, and unknown before
    /// (the primary was never read, or not for long enough to tell).
    static func health(replayed: Int64, samples: [Sample], at instant: ContinuousClock.Instant, maxLag: Duration) -> ReadReplica.Health {
        if let covered = samples.last(where: { $0.position <= replayed }) {
            let lag = max(.zero, covered.at.duration(to: instant))
            return lag > maxLag ? .lagging(lag) : .ready(lag: lag)
        }
        guard let oldest = samples.first, oldest.at.duration(to: instant) > maxLag else {
            return .unknown
        }
        return .lagging(oldest.at.duration(to: instant))
    }

    /// The replica's replayed WAL position: nil when it did not answer, `.some(nil)` when it is
    /// not in recovery.
    private static func replayPosition(of pool: RenewablePool, logger: Logger) async -> Int64?? {
        await Deadline.run(within: answerTimeout) {
            do {
                let rows = try await pool.withConnection { connection in
                    try await connection.guardedQuery(
                        """
                        select case when pg_catalog.pg_is_in_recovery()
                                    then (pg_catalog.pg_last_wal_replay_lsn() - '0/0'::pg_catalog.pg_lsn)::int8 end
                        """, logger: logger)
                }
                return .some(try rows.first?.decode(Int64?.self) ?? nil)
            } catch {
                return nil
            }
        }
    }

    /// What reading the primary's WAL position gave.
    enum PrimaryPosition {
        /// The position.
        case read(Int64)
        /// The primary could not be reached: the connection was refused or lost, or the server
        /// is going away.
        case unreachable
        /// No answer in time, or another failure: the primary may be up and committing.
        case late
    }

    /// The primary's current WAL position, read on a connection of `pool` within ``answerTimeout``.
    private static func position(of pool: RenewablePool, logger: Logger) async -> PrimaryPosition {
        await Deadline.run(within: answerTimeout) {
            do {
                let rows = try await pool.withConnection {
                    try await $0.guardedQuery(
                        "select (pg_catalog.pg_current_wal_lsn() - '0/0'::pg_catalog.pg_lsn)::int8", logger: logger)
                }
                guard let position = try rows.first?.decode(Int64.self) else { return .late }
                return .read(position)
            } catch {
                return !Task.isCancelled && DatabaseError(error).meansDatabaseUnreachable ? .unreachable : .late
            }
        }
    }
}
