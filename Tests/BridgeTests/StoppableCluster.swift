import Foundation
import SMTACore
import SMTADev
import SMTASchema
import SMTASupabase
import SMTATestSupport

/// A PostgreSQL cluster of one interop program's own, which the program may stop and restart:
/// doing that to the shared test cluster would break the suites running beside it.
enum StoppableCluster {
    /// Creates and starts a cluster, migrates a database on it for the Supabase adapter, runs
    /// `body` with the `SMTA_INTEROP_*` variables that name it (database URL, data folder,
    /// `pg_ctl`, port), then stops and deletes the cluster whatever happened.
    static func run(_ body: ([String: String]) async throws -> Void) async throws {
        let binaries = try PostgresBinaries.locate()
        let folder = FileManager.default.temporaryDirectory.path
            + "/smta-bridge-cluster-\(getpid())-\(UUID().uuidString.prefix(8))"
        let cluster = LocalCluster(directory: folder, port: try LocalCluster.freePort(), binaries: binaries)
        defer {
            if cluster.isRunning {
                try? cluster.stop(immediate: true)
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
        try await TestTools.offThePool {
            try cluster.create()
            try cluster.start(durable: false)
        }
        let url = cluster.url()
        try await Migrator(migrations: CoreSchema.migrations + SupabaseSchema.migrations).migrate(url)
        try await body([
            "SMTA_INTEROP_DATABASE_URL": url.description,
            "SMTA_INTEROP_PGDATA": cluster.dataDirectory,
            "SMTA_INTEROP_PG_CTL": binaries.path("pg_ctl"),
            "SMTA_INTEROP_PG_PORT": String(cluster.port),
        ])
    }
}
