import Logging
import PostgresNIO
import SMTACore

/// Measures how far each read replica is behind the primary, every ``probeInterval``, and marks
/// it usable or not (``ReadReplica/Health``).
///
/// The lag is measured in the primary's own progress, not in the servers' clocks: each probe
/// reads the primary's WAL position (`pg_current_wal_lsn()`) and keeps it with the instant it was
/// read; a replica's lag is the age of the oldest kept position it has not replayed yet
/// (`pg_last_wal_replay_lsn()`), zero when it has replayed them all. So a replica whose replay
/// stopped (paused, or its WAL stream cut) is marked lagging `max_replica_lag` after the first
/// write it missed, however long the primary was idle before; and an idle primary never makes a
/// replica that is up to date look behind (which `pg_last_xact_replay_timestamp()` would). A
/// replica that does not answer within ``answerTimeout``, or is not in recovery, is not used.
///
/// While the primary is unreachable no sample is added and none expires: a replica that had
/// replayed every position read keeps serving reads (with a lag of zero), one that had not is
/// skipped `max_replica_lag` after the first position it missed; before the primary was ever
/// read, no replica is used.
struct ReplicaLagMonitor: Sendable {
    /// How often the primary and the replicas are probed.
    static let probeInterval: Duration = .seconds(1)
    /// How long one probe may wait for a server.
    static let answerTimeout: Duration = .seconds(2)
    /// What `replica_lag` must add to `max_replica_lag` for a writer's reads never to reach a
    /// replica without the write: the sample that first covers a write is taken up to one
    /// period after it, and a replica's verdict is used until the next probe, one period later.
    static let stickinessMargin: Duration = probeInterval * 2

    let primary: RenewablePool
    let replicas: [ReadReplica]
    /// How far behind a replica may be and still serve reads.
    let maxLag: Duration
    let logger: Logger

    /// A position of the primary's WAL and when it was read.
    private struct Sample {
        let at: ContinuousClock.Instant
        let position: Int64
    }

    /// Probes until the calling task is cancelled.
    func run() async {
        // Kept long enough that a replica past maxLag is still measured as past it.
        let retention = maxLag * 2 + Self.probeInterval * 2
        var samples: [Sample] = []
        while !Task.isCancelled {
            if let position = await Self.position(
                of: primary, query: "select (pg_catalog.pg_current_wal_lsn() - '0/0'::pg_catalog.pg_lsn)::int8", logger: logger)
            {
                let now = ContinuousClock.now
                samples.append(Sample(at: now, position: position))
                samples.removeAll { $0.at.duration(to: now) > retention }
            }
            let measured = samples
            await withTaskGroup(of: Void.self) { group in
                for replica in replicas {
                    group.addTask { await self.probe(replica, samples: measured) }
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
    private func probe(_ replica: ReadReplica, samples: [Sample]) async {
        let found: ReadReplica.Health
        switch await Self.replayPosition(of: replica.pool, logger: logger) {
        case .none:
            found = .unreachable
        case .some(.none):
            found = .notAReplica
        case .some(.some) where samples.isEmpty:
            // The primary was never read: nothing to measure the replica against, so it is not
            // trusted (it could be any age) until the primary is.
            found = .unknown
        case .some(.some(let replayed)):
            let now = ContinuousClock.now
            let lag = samples.first { $0.position > replayed }.map { $0.at.duration(to: now) } ?? .zero
            found = lag > maxLag ? .lagging(lag) : .ready(lag: lag)
        }
        replica.record(found)
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

    /// One `int8` read on a pooled connection of `pool`; nil when it could not be read in time.
    private static func position(of pool: RenewablePool, query: PostgresQuery, logger: Logger) async -> Int64? {
        await Deadline.run(within: answerTimeout) {
            do {
                let rows = try await pool.withConnection { try await $0.guardedQuery(query, logger: logger) }
                return try rows.first?.decode(Int64.self)
            } catch {
                return nil
            }
        }
    }
}
