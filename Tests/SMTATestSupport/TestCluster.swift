import Foundation
import Logging
import PostgresNIO
import SMTACore
import SMTADev
import SMTASchema

/// The throwaway PostgreSQL every test of this process shares: a fresh cluster in a temporary
/// folder on a free loopback port, started on first use and removed when the process exits.
/// Each test gets a database of its own, cloned from a template migrated once per schema.
public actor TestCluster {
    /// The process-wide instance.
    public static let shared = TestCluster()

    /// The cluster's start, made by the first caller and awaited by every caller (the actor is
    /// reentrant while it waits).
    private var starting: Task<LocalCluster, any Error>?
    private var templates: [String: String] = [:]
    private var counter = 0

    /// The running cluster, started on first call (`initdb` and `pg_ctl` waited for off Swift's
    /// cooperative threads).
    public func running() async throws -> LocalCluster {
        if starting == nil {
            starting = Task {
                try await TestTools.offThePool {
                    let folder = FileManager.default.temporaryDirectory.path + "/smta-test-\(getpid())"
                    try? FileManager.default.removeItem(atPath: folder)
                    let cluster = LocalCluster(
                        directory: folder, port: try LocalCluster.freePort(), binaries: try PostgresBinaries.locate())
                    try cluster.create()
                    // Suites run side by side, each bridge with a pool of its own: more than the default 100.
                    try cluster.start(durable: false, maxConnections: 400)
                    TestClusterCleanup.register(cluster)
                    return cluster
                }
            }
        }
        return try await starting!.value
    }

    /// A new, empty database.
    public func emptyDatabase() async throws -> DatabaseURL {
        try await createDatabase(template: "template0")
    }

    /// A new database holding `migrations`, applied once into a template and cloned.
    public func database(migrated migrations: [Migration]) async throws -> DatabaseURL {
        let key = migrations.map(\.id).joined(separator: ",") + migrations.map(\.checksum).joined()
        if let template = templates[key] {
            return try await createDatabase(template: template)
        }
        let templateURL = try await emptyDatabase()
        try await Migrator(migrations: migrations).migrate(templateURL)
        templates[key] = templateURL.database
        return try await createDatabase(template: templateURL.database)
    }

    private func createDatabase(template: String) async throws -> DatabaseURL {
        let cluster = try await running()
        counter += 1
        let name = "test_\(counter)"
        // A template is briefly "being accessed by other users" (55006) right after its last
        // connection closed, or while autovacuum visits it (which, on a machine loaded by a
        // build beside the suite, once took longer than 10 s): wait that out, for up to 60 s.
        let giveUp = ContinuousClock.now + .seconds(60)
        while true {
            do {
                try await TestSQL.execute("create database \(name) template \(template)", on: cluster.url())
                return cluster.url(database: name)
            } catch let error as DatabaseError where error.sqlState == "55006" && ContinuousClock.now < giveUp {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}

/// Stops the shared cluster and deletes its folder when the test process exits.
enum TestClusterCleanup {
    nonisolated(unsafe) private static var registered: LocalCluster?

    static func register(_ cluster: LocalCluster) {
        registered = cluster
        atexit {
            guard let cluster = TestClusterCleanup.registered else { return }
            try? cluster.stop(immediate: true)
            try? FileManager.default.removeItem(atPath: cluster.dataDirectory)
        }
    }
}

/// Small conveniences for tests that talk to PostgreSQL directly.
public enum TestSQL {
    /// Runs one statement (no parameters) on a fresh connection to `url`.
    /// - Throws: `DatabaseError`, whose description carries the server's message.
    public static func execute(_ sql: String, on url: DatabaseURL) async throws {
        do {
            try await withConnection(to: url) { connection in
                _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect()
            }
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Opens a connection to `url`, runs `body`, closes it.
    public static func withConnection<Result: Sendable>(
        to url: DatabaseURL, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await PostgresConnection.connect(
            configuration: try url.connectionConfiguration(), id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// A quiet logger for test connections.
    public static let logger = Logger(label: "smta.tests")
}

extension TestSQL {
    /// Runs `body` with a connection pool to `url` whose `run()` is kept running meanwhile.
    public static func withClient<Result: Sendable>(
        to url: DatabaseURL, maximumConnections: Int = 4, _ body: @Sendable (PostgresClient) async throws -> Result
    ) async throws -> Result {
        var configuration = try url.clientConfiguration()
        configuration.options.maximumConnections = maximumConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}
