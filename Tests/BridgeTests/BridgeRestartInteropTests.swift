import Foundation
import SMTACore
import SMTADev
import SMTASchema
import SMTASupabase
import Testing

extension BridgeInteropTests {
    /// `smta serve` across restarts of PostgreSQL and of itself: `Tests/Interop/test_bridge_restarts.py`.
    ///
    /// The program stops and restarts PostgreSQL, so it gets a cluster of its own, stopped and
    /// deleted afterwards whatever happens; restarting the shared test cluster would break the
    /// suites running beside this one.
    @Suite("The bridge answers 503 while PostgreSQL is away, recovers by itself, and stops gracefully")
    struct BridgeRestartInteropTests {
        @Test("database restarts and outages, a bridge started before its database, SIGTERM with a request in flight")
        func restarts() async throws {
            let binaries = try PostgresBinaries.locate()
            let folder = FileManager.default.temporaryDirectory.path
                + "/smta-bridge-restarts-\(getpid())-\(UUID().uuidString.prefix(8))"
            let cluster = LocalCluster(directory: folder, port: try LocalCluster.freePort(), binaries: binaries)
            defer {
                if cluster.isRunning {
                    try? cluster.stop(immediate: true)
                }
                try? FileManager.default.removeItem(atPath: folder)
            }
            try cluster.create()
            try cluster.start(durable: false)
            let url = cluster.url()
            try await Migrator(migrations: CoreSchema.migrations + SupabaseSchema.migrations).migrate(url)

            try await InteropProgram(script: "test_bridge_restarts.py").expectPasses(environment: [
                "SMTA_INTEROP_DATABASE_URL": url.description,
                "SMTA_INTEROP_PGDATA": cluster.dataDirectory,
                "SMTA_INTEROP_PG_CTL": binaries.path("pg_ctl"),
                "SMTA_INTEROP_PG_PORT": String(cluster.port),
            ])
        }
    }
}
