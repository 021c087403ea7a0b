import ArgumentParser
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import SMTABridge
import SMTACore
import SMTADev
import SMTASupabase

/// `smta bench bridge`: an authenticated RPC through the bridge against the same SQL sent
/// directly by pgbench, side by side in one run.
///
/// The call is `list_my_organizations` for a member of one organization, with a Supabase HS256
/// token. The bridge (in this process) serves it as one statement, `core.gate_call(…)`; pgbench
/// runs (a) that very statement and (b) the four-statement transaction a client would write by
/// hand (BEGIN; the role and claim settings; the call; COMMIT). Rounds alternate the three
/// loads; medians are reported. wrk drives HTTP; both wrk and pgbench must be installed.
struct BridgeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "Measure requests per second and latency of the bridge against direct SQL (pgbench).")

    @Option(name: .customLong("database-url"), help: "A scratch PostgreSQL to migrate and use (default: a throwaway cluster).")
    var databaseURL: String?

    @Option(help: "Concurrent clients (HTTP connections, pgbench clients, pool size).")
    var clients = 16

    @Option(help: "Seconds per load run.")
    var seconds = 10

    @Option(help: "Rounds of the three loads; medians are reported.")
    var rounds = 3

    @Option(help: "Write the figures as JSON to this file.")
    var json: String?

    func run() async throws {
        let binaries = try PostgresBinaries.locate()
        // pgbench sits beside initdb in Debian's folder, or on PATH.
        let pgbench = FileManager.default.isExecutableFile(atPath: binaries.path("pgbench")) ? binaries.path("pgbench") : "pgbench"
        let scratch = FileManager.default.temporaryDirectory.path + "/smta-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        if let databaseURL {
            try await measure(url: try DatabaseURL(databaseURL), pgbench: pgbench, folder: scratch)
            return
        }
        let cluster = LocalCluster(directory: scratch + "/postgres", port: try LocalCluster.freePort(), binaries: binaries)
        Console.line("Starting a throwaway PostgreSQL cluster…")
        try cluster.create()
        try cluster.start(durable: false)
        defer { try? cluster.stop(immediate: true) }
        try await measure(url: cluster.url(), pgbench: pgbench, folder: scratch)
    }

    private func measure(url: DatabaseURL, pgbench: String, folder: String) async throws {
        let secret = String(repeating: "b", count: 40)
        let userID = UUID()
        Console.line("Migrating \(url) for the supabase adapter…")
        try await Migrator(migrations: AdapterChoice.supabase.migrations).migrate(url)
        let claims = #"{"aud":"authenticated","sub":"\#(userID.uuidString.lowercased())","role":"authenticated","email":"bench@example.com"}"#
        try await Self.seed(url, userID: userID, claims: claims)
        let token = DevToken.supabase(userID: userID, email: "bench@example.com", secret: secret, lifetime: 3600)

        let port = try LocalCluster.freePort()
        var logger = Logger(label: "smta.bench")
        // Stopping the in-process server by cancellation logs errors; the load tools report real ones.
        logger.logLevel = .critical
        let bridge = Bridge(
            adapter: try SupabaseAdapter(settings: SupabaseSettings(jwtSecret: secret)), database: url,
            settings: BridgeSettings(port: port, poolSize: clients), logger: logger)
        let listening = AsyncStream<Void>.makeStream()
        let server = Task { try await bridge.run(gracefulShutdownSignals: []) { _ in listening.continuation.yield() } }
        defer { server.cancel() }
        for await _ in listening.stream { break }

        // The statement the bridge builds for this call (a set of rows, no arguments).
        let statement = #"select coalesce(pg_catalog.json_agg(_r), '[]') from public."list_my_organizations"() as _r"#
        let direct = """
            select core.gate_call('authenticated', '\(userID.uuidString.lowercased())', '\(claims)', null, null, null, null, false, '\(statement.replacingOccurrences(of: "'", with: "''"))', '{}')::text;
            """
        let handWritten = """
            BEGIN;
            select set_config('app.current_user_id', '\(userID.uuidString.lowercased())', true), set_config('request.jwt.claims', '\(claims)', true), set_config('app.secrets_key', '', true), set_config('role', 'authenticated', true);
            select * from public.list_my_organizations();
            COMMIT;
            """
        let endpoint = "http://127.0.0.1:\(port)/rpc/list_my_organizations"
        let header = "Authorization: Bearer \(token)"
        // The load tools block their thread until they exit: run them on NIO's thread pool, never
        // on an event loop (this process's tasks run on the event loops that serve the bridge).
        let clients = clients, seconds = seconds, databaseURL = url.description
        func offLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
            try await NIOThreadPool.singleton.runIfActive(body)
        }
        // Warm up: the catalog, the pool, the server's caches.
        _ = try await offLoop { try LoadTools.wrk(url: endpoint, header: header, connections: clients, seconds: 2) }

        var bridgeRuns: [LoadTools.Figures] = [], directRuns: [LoadTools.Figures] = [], handRuns: [LoadTools.Figures] = []
        for round in 1...rounds {
            Console.line("Round \(round) of \(rounds)…")
            bridgeRuns.append(try await offLoop { try LoadTools.wrk(url: endpoint, header: header, connections: clients, seconds: seconds) })
            directRuns.append(try await offLoop {
                try LoadTools.pgbench(binary: pgbench, url: databaseURL, script: direct, clients: clients, seconds: seconds, folder: folder)
            })
            handRuns.append(try await offLoop {
                try LoadTools.pgbench(binary: pgbench, url: databaseURL, script: handWritten, clients: clients, seconds: seconds, folder: folder)
            })
        }
        let rows = [
            ("bridge (HTTP, wrk)", Self.median(bridgeRuns)),
            ("pgbench: core.gate_call, 1 statement", Self.median(directRuns)),
            ("pgbench: BEGIN/settings/call/COMMIT", Self.median(handRuns)),
        ]
        Console.line("\nlist_my_organizations, \(clients) clients, \(seconds) s runs, median of \(rounds) rounds, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        Console.line("  load                                   per second     p50 ms    p99 ms   bridge/this")
        for (name, figures) in rows {
            let ratio = rows[0].1.perSecond / figures.perSecond
            Console.line("  \(name.padding(toLength: 38, withPad: " ", startingAt: 0)) \(Self.format(figures.perSecond, 10, 0)) \(Self.format(figures.p50, 10, 2)) \(Self.format(figures.p99, 9, 2))   \(Self.format(ratio, 8, 2))")
        }
        if let json {
            let entries = rows.map {
                "{\"load\":\"\($0.0)\",\"per_second\":\(Int($0.1.perSecond)),\"p50_ms\":\(Self.format($0.1.p50, 0, 3)),\"p99_ms\":\(Self.format($0.1.p99, 0, 3))}"
            }
            try ("{\"clients\":\(clients),\"seconds\":\(seconds),\"rounds\":\(rounds),\"results\":[" + entries.joined(separator: ",") + "]}\n")
                .write(toFile: json, atomically: true, encoding: .utf8)
        }
    }

    /// The user and one organization of theirs, created through the API as that user.
    static func seed(_ url: DatabaseURL, userID: UUID, claims: String) async throws {
        let logger = Logger(label: "smta.bench")
        try await url.withConnection(logger: logger) { connection in
            _ = try await connection.guardedQuery(
                "insert into core.users_meta (id, email) values (\(userID), 'bench@example.com') on conflict do nothing", logger: logger)
            _ = try await connection.guardedQuery(
                """
                select core.gate_call('authenticated', \(userID), \(claims), null, null, null, null, false,
                    'select pg_catalog.to_json(r) from public.create_organization(p_name => ''Bench'') r', '{}')
                """, logger: logger)
        }
    }

    private static func median(_ runs: [LoadTools.Figures]) -> LoadTools.Figures {
        func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        return LoadTools.Figures(
            perSecond: middle(runs.map(\.perSecond)), p50: middle(runs.map(\.p50)), p99: middle(runs.map(\.p99)))
    }

    private static func format(_ value: Double, _ width: Int, _ decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
