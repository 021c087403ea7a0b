import Foundation
import SMTACore
import SMTADev

/// Throwaway PgBouncers (transaction pooling, Debian's `pgbouncer`) in front of the shared
/// ``TestCluster``: one per pool size, each in a temporary folder on a free loopback port,
/// started on first use and stopped when the process exits.
public actor TestPgBouncer {
    /// The process-wide instance.
    public static let shared = TestPgBouncer()

    /// Each pool size's start, made by the first caller and awaited by every caller.
    private var starting: [Int: Task<LocalPgBouncer, any Error>] = [:]

    /// The PgBouncer pooling at most `poolSize` server connections per database, started on
    /// first call (waited for off Swift's cooperative threads).
    public func pooling(_ poolSize: Int) async throws -> LocalPgBouncer {
        if let start = starting[poolSize] { return try await start.value }
        let start = Task {
            let cluster = try await TestCluster.shared.running()
            return try await TestTools.offThePool {
                let folder = FileManager.default.temporaryDirectory.path + "/smta-test-pgbouncer-\(getpid())-\(poolSize)"
                try? FileManager.default.removeItem(atPath: folder)
                let bouncer = try LocalPgBouncer(
                    directory: folder, port: try LocalCluster.freePort(), serverPort: cluster.port, poolSize: poolSize)
                try bouncer.start()
                TestPgBouncerCleanup.register(bouncer)
                return bouncer
            }
        }
        starting[poolSize] = start
        return try await start.value
    }

    /// `url`, a database of the shared cluster, reached through the PgBouncer pooling at most
    /// `poolSize` server connections.
    public func url(for url: DatabaseURL, poolSize: Int) async throws -> DatabaseURL {
        try await pooling(poolSize).url(database: url.database)
    }
}

/// Stops the PgBouncers and deletes their folders when the test process exits (before the
/// cluster behind them stops: `atexit` handlers run in reverse order of registration, and the
/// cluster is always registered first).
enum TestPgBouncerCleanup {
    nonisolated(unsafe) private static var registered: [LocalPgBouncer] = []

    static func register(_ bouncer: LocalPgBouncer) {
        let first = registered.isEmpty
        registered.append(bouncer)
        guard first else { return }
        atexit {
            for bouncer in TestPgBouncerCleanup.registered {
                try? bouncer.stop()
                try? FileManager.default.removeItem(atPath: bouncer.directory)
            }
        }
    }
}
