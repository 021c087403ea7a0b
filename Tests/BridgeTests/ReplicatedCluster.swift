import Foundation
import SMTACore
import SMTADev
import SMTASchema
import SMTASupabase
import SMTATestSupport

/// A PostgreSQL cluster of one interop run's own with a streaming replica of it (made by
/// `pg_basebackup -R`, serving reads as a hot standby on another loopback port), which the
/// programs may pause, stop and restart: doing that beside the shared test cluster would break
/// the suites running next to it.
enum ReplicatedCluster {
    /// What ``run(_:)`` gives its body.
    struct Databases {
        /// The variables every program of the run needs: `pg_ctl`, the primary's and the
        /// replica's data folders and ports.
        var common: [String: String]
        /// A database migrated for the Supabase adapter, committing asynchronously (the replica
        /// may fall behind it): primary URL, replica URL.
        var asynchronous: (primary: DatabaseURL, replica: DatabaseURL)
        /// Another, whose commits return once the replica has applied them
        /// (`synchronous_commit = remote_apply`): a program that reads right after writing, through
        /// another caller or psycopg, finds the write on the replica too.
        var applied: (primary: DatabaseURL, replica: DatabaseURL)
    }

    /// Creates and starts a primary, migrates two databases on it for the Supabase adapter, makes
    /// and starts the replica, waits until the replica holds both, runs `body`, then stops both
    /// clusters and deletes their folders whatever happened.
    static func run(_ body: (Databases) async throws -> Void) async throws {
        let binaries = try PostgresBinaries.locate()
        let base = FileManager.default.temporaryDirectory.path + "/smta-replicated-\(getpid())-\(UUID().uuidString.prefix(8))"
        let primary = LocalCluster(directory: base + "-primary", port: try LocalCluster.freePort(), binaries: binaries)
        var replica: LocalCluster?
        defer {
            for cluster in [replica, primary].compactMap({ $0 }) {
                if cluster.isRunning {
                    try? cluster.stop(immediate: true)
                }
                try? FileManager.default.removeItem(atPath: cluster.dataDirectory)
            }
        }
        try await TestTools.offThePool {
            try primary.create()
            try primary.start(durable: false)
        }
        // A commit waits for a standby only where synchronous_commit asks for it (remote_apply).
        try await TestSQL.execute("alter system set synchronous_standby_names = '*'", on: primary.url())
        try await TestSQL.execute("select pg_reload_conf()", on: primary.url())
        for name in ["replicated_async", "replicated_applied"] {
            try await TestSQL.execute("create database \(name)", on: primary.url())
            try await Migrator(migrations: CoreSchema.migrations + SupabaseSchema.migrations).migrate(primary.url(database: name))
        }
        try await TestSQL.execute("alter database replicated_applied set synchronous_commit = remote_apply", on: primary.url())
        let standby = try await TestTools.offThePool {
            try primary.makeStreamingReplica(directory: base + "-replica", port: try LocalCluster.freePort())
        }
        replica = standby
        try await TestTools.offThePool { try standby.start(durable: false) }
        try await waitUntilReplayed(primary: primary, replica: standby)
        try await body(
            Databases(
                common: [
                    "SMTA_INTEROP_PG_CTL": binaries.path("pg_ctl"),
                    "SMTA_INTEROP_PGDATA": primary.dataDirectory,
                    "SMTA_INTEROP_PG_PORT": String(primary.port),
                    "SMTA_INTEROP_REPLICA_PGDATA": standby.dataDirectory,
                    "SMTA_INTEROP_REPLICA_PORT": String(standby.port),
                ],
                asynchronous: (primary.url(database: "replicated_async"), standby.url(database: "replicated_async")),
                applied: (primary.url(database: "replicated_applied"), standby.url(database: "replicated_applied"))))
    }

    /// Waits (at most 60 s) until the replica has replayed everything the primary has written so far.
    private static func waitUntilReplayed(primary: LocalCluster, replica: LocalCluster) async throws {
        let target = try await TestSQL.withConnection(to: primary.url()) { connection in
            try await connection.query("select pg_current_wal_lsn()::text", logger: TestSQL.logger)
                .collect().first!.decode(String.self)
        }
        for _ in 0..<600 {
            let done = try? await TestSQL.withConnection(to: replica.url()) { connection in
                try await connection.query(
                    "select pg_last_wal_replay_lsn() >= \(target)::pg_lsn", logger: TestSQL.logger
                ).collect().first!.decode(Bool.self)
            }
            if done == true {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ReplicaBehind()
    }

    /// The replica did not replay the primary's WAL within 60 seconds.
    struct ReplicaBehind: Error, CustomStringConvertible {
        var description: String { "the replica did not replay the primary's WAL within 60 s" }
    }
}
