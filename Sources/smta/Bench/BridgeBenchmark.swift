import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import SMTABridge
import SMTACore
import SMTADev
import SMTASupabase

/// `smta bench bridge`: an authenticated RPC through the bridge against the floors beneath it,
/// side by side in one run, with the CPU each process spends per request.
///
/// The call is `list_my_organizations` for a member of one organization, with a Supabase HS256
/// token. The bridge (in this process) serves it as one statement, `core.gate_call(…)`. Its
/// floors, each a load of its own in every round:
/// - **HTTP floor**: a bare Hummingbird server in this process answering the same route with the
///   bridge's own body (``HTTPFloor``), driven by `wrk` like the bridge;
/// - **Swift client floor**: the bridge's statement, with its bound parameters, sent through
///   SMTACore's `Gate` over a PostgresNIO pool by tasks of this process (``ClientFloor``);
/// - **the event-loop floors**, how low each side goes beneath the bridge's stack: PostgresNIO's
///   future API sending pgbench's statement from each call's completion on the connection's
///   event loop (``EventLoopClientFloor``), and the same HTTP answer from a bare SwiftNIO
///   pipeline in its channel handler (``NIOHTTPFloor``), neither with a task per request; and
///   the two joined (``EventLoopBridgeFloor``): the SwiftNIO pipeline answering each request
///   with the statement's result, sent on a connection of its own event loop — the least any
///   bridge answering this call could cost;
/// - **the bridge's own stacks joined** (``HummingbirdBridgeFloor``): Hummingbird answering the
///   route with the statement's result through `Gate` and a pool of its own, for a fixed caller
///   — the bridge less its own work on the router's path; and the same on the lane's path
///   (``NIOGateFloor``: a SwiftNIO channel handler, a task per request, `Gate`);
/// - **the bridge without its lane**: a second bridge whose calls all go through Hummingbird's
///   router (`answersCallsOnLane` off), the lane's before, measured in the same rounds;
/// - **pgbench** (libpq) sending (a) that statement and (b) the four-statement transaction a
///   client would write by hand (BEGIN; the role and claim settings; the call; COMMIT).
///
/// Rounds alternate the loads; medians are reported. CPU time comes from `/proc`
/// (``ProcessCPU``): this process, the load generator (`wrk`, `pgbench`), and PostgreSQL when the
/// cluster is the benchmark's own. `--curve` adds the bridge and pgbench at other numbers of
/// connections. `--pgbouncer` adds a second bridge, and pgbench's `core.gate_call`, through a
/// PgBouncer in transaction mode that the benchmark starts in front of its cluster
/// (``LocalPgBouncer``, `default_pool_size` = `--clients`): the bridge then runs each call in a
/// transaction of its own that sets `statement_timeout`, unprepared (`transaction_pooling`).
/// `wrk` and `pgbench` must be installed, and `pgbouncer` for `--pgbouncer`.
struct BridgeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bridge",
        abstract: "Measure the bridge against its floors (HTTP, Swift client, pgbench): throughput, latency, CPU per request.")

    @Option(name: .customLong("database-url"), help: "A scratch PostgreSQL to migrate and use (default: a throwaway cluster).")
    var databaseURL: String?

    @Option(help: "Concurrent clients (HTTP connections, pgbench clients, pool size).")
    var clients = 16

    @Option(help: "Seconds per load run.")
    var seconds = 10

    @Option(help: "Rounds of the loads; medians are reported.")
    var rounds = 3

    @Option(help: "Numbers of connections for the bridge and pgbench after the rounds, e.g. 1,16,64,256 (none by default).")
    var curve: String?

    @Option(help: "Write the figures as JSON to this file.")
    var json: String?

    @Flag(help: "Also load a bridge, and pgbench, through a PgBouncer in transaction mode started in front of the throwaway cluster.")
    var pgbouncer = false

    func run() async throws {
        let connections = try curveConnections()
        let binaries = try PostgresBinaries.locate()
        // pgbench sits beside initdb in Debian's folder, or on PATH.
        let pgbench = FileManager.default.isExecutableFile(atPath: binaries.path("pgbench")) ? binaries.path("pgbench") : "pgbench"
        let scratch = FileManager.default.temporaryDirectory.path + "/smta-bench-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        if let databaseURL {
            guard !pgbouncer else {
                throw ValidationError("--pgbouncer starts PgBouncer in front of the benchmark's own cluster: leave out --database-url")
            }
            try await measure(
                url: try DatabaseURL(databaseURL), pooler: nil, postmaster: nil, pgbench: pgbench, folder: scratch, curve: connections)
            return
        }
        let cluster = LocalCluster(directory: scratch + "/postgres", port: try LocalCluster.freePort(), binaries: binaries)
        Console.line("Starting a throwaway PostgreSQL cluster…")
        try cluster.create()
        // Every load keeps its connections open across the rounds: the two bridges, the five
        // floors with a database side, pgbench, and the bridge and PgBouncer of --pgbouncer,
        // `clients` each; the bridges' sessions of their own; the largest pgbench of the curve.
        try cluster.start(durable: false, maxConnections: max(100, (connections.max() ?? 0) + clients * 10 + 30))
        defer { try? cluster.stop(immediate: true) }
        var pooler: LocalPgBouncer?
        if pgbouncer {
            let bouncer = try LocalPgBouncer(
                directory: scratch + "/pgbouncer", port: try LocalCluster.freePort(), serverPort: cluster.port, poolSize: clients)
            Console.line("Starting PgBouncer (transaction mode, default_pool_size \(clients))…")
            try bouncer.start()
            pooler = bouncer
        }
        defer { try? pooler?.stop() }
        try await measure(
            url: cluster.url(), pooler: pooler, postmaster: ProcessCPU.postmaster(dataDirectory: cluster.dataDirectory), pgbench: pgbench,
            folder: scratch, curve: connections)
    }

    private func curveConnections() throws -> [Int] {
        guard let curve else { return [] }
        let values = curve.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--curve takes numbers of connections separated by commas, e.g. 1,16,64,256")
        }
        return values.compactMap { $0 }
    }

    /// One load of a round: its name and what runs it.
    private struct Load {
        var name: String
        var run: @Sendable () async throws -> LoadTools.Figures
    }

    /// One load's figures with the CPU each process spent per request, in microseconds.
    struct Measured {
        var figures: LoadTools.Figures
        /// This process: the bridge, the HTTP floor's server or the Swift client floor.
        var ownMicros: Double
        /// The load generator (`wrk`, `pgbench`); 0 for the Swift client floor, which is its own.
        var generatorMicros: Double
        /// PostgreSQL, when the cluster is the benchmark's own.
        var postgresMicros: Double?

        init(figures: LoadTools.Figures, ownMicros: Double, generatorMicros: Double, postgresMicros: Double?) {
            self.figures = figures
            self.ownMicros = ownMicros
            self.generatorMicros = generatorMicros
            self.postgresMicros = postgresMicros
        }

        init(figures: LoadTools.Figures, cpu: ProcessCPU, seconds: Int) {
            let requests = figures.perSecond * Double(seconds)
            self.init(
                figures: figures, ownMicros: cpu.own / requests * 1e6, generatorMicros: cpu.children / requests * 1e6,
                postgresMicros: cpu.postgres.map { $0 / requests * 1e6 })
        }
    }

    private func measure(
        url: DatabaseURL, pooler: LocalPgBouncer?, postmaster: Int32?, pgbench: String, folder: String, curve: [Int]
    ) async throws {
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
        // The same bridge with every call through Hummingbird's router: the lane's before.
        let routedPort = try LocalCluster.freePort()
        var routedSettings = BridgeSettings(port: routedPort, poolSize: clients)
        routedSettings.answersCallsOnLane = false
        let routedBridge = Bridge(
            adapter: try SupabaseAdapter(settings: SupabaseSettings(jwtSecret: secret)), database: url, settings: routedSettings,
            logger: logger)
        let routedListening = AsyncStream<Void>.makeStream()
        let routedServer = Task { try await routedBridge.run(gracefulShutdownSignals: []) { _ in routedListening.continuation.yield() } }
        defer { routedServer.cancel() }
        for await _ in routedListening.stream { break }
        // The same bridge through PgBouncer, the watch and LISTEN straight to PostgreSQL.
        let pooledPort = try LocalCluster.freePort()
        var pooledServer: (task: Task<Void, any Error>, listening: AsyncStream<Void>)?
        if let pooler {
            let pooledBridge = Bridge(
                adapter: try SupabaseAdapter(settings: SupabaseSettings(jwtSecret: secret)), database: pooler.url(database: url.database),
                settings: BridgeSettings(port: pooledPort, poolSize: self.clients, transactionPooling: true, directDatabase: url),
                logger: logger)
            let pooledListening = AsyncStream<Void>.makeStream()
            let task = Task { try await pooledBridge.run(gracefulShutdownSignals: []) { _ in pooledListening.continuation.yield() } }
            pooledServer = (task: task, listening: pooledListening.stream)
        }
        defer { pooledServer?.task.cancel() }
        if let pooledServer {
            for await _ in pooledServer.listening { break }
        }

        // The statement the bridge builds for this call (a set of rows, no arguments).
        let statement = #"select coalesce(pg_catalog.json_agg(_r), '[]') from public."list_my_organizations"() as _r"#
        let direct = """
            select core.gate_call('authenticated', '\(userID.uuidString.lowercased())', '\(claims)', null, null, null, null, false, null, '\(statement.replacingOccurrences(of: "'", with: "''"))', '{}')::text;
            """
        let handWritten = """
            BEGIN;
            select set_config('app.current_user_id', '\(userID.uuidString.lowercased())', true), set_config('request.jwt.claims', '\(claims)', true), set_config('app.secrets_key', '', true), set_config('role', 'authenticated', true);
            select * from public.list_my_organizations();
            COMMIT;
            """
        let path = "/rpc/list_my_organizations"
        let header = "Authorization: Bearer \(token)"
        let clients = clients, seconds = seconds, databaseURL = url.description
        let pooledDatabaseURL = pooler?.url(database: url.database).description

        // Warm up: the catalog, the pool, the server's caches; the bridge's body for the floor.
        _ = try await offLoop { try LoadTools.wrk(url: "http://127.0.0.1:\(port)\(path)", header: header, connections: clients, seconds: 2) }
        let body = await HTTPProbe.send(.GET, port: port, path: path, headers: [("Authorization", "Bearer \(token)")], limit: .seconds(5))
        guard body.status == 200 else {
            throw LoadTools.BenchmarkFailure("the bridge answered \(body.status) \(body.body)")
        }
        let floor = try await HTTPFloor.start(path: path, body: ByteBuffer(string: body.body))
        defer { floor.server.cancel() }
        let nioFloor = try await NIOHTTPFloor.start(path: path, body: ByteBuffer(string: body.body))
        defer { nioFloor.channel.close(promise: nil) }
        let identity = Identity(userID: userID, email: "bench@example.com", role: .authenticated, claimsJSON: claims, source: "supabase")
        let clientFloor = try await ClientFloor.open(url: url, identity: identity, statement: statement, clients: clients)

        let eventLoopClientFloor = try await EventLoopClientFloor.open(url: url, statement: direct, clients: clients)
        let eventLoopBridgeFloor = try await EventLoopBridgeFloor.start(path: path, url: url, statement: direct, clients: clients)
        let hummingbirdBridgeFloor = try await HummingbirdBridgeFloor.start(
            path: path, url: url, identity: identity, statement: statement, clients: clients)
        let nioGateFloor = try await NIOGateFloor.start(path: path, url: url, identity: identity, statement: statement, clients: clients)
        // Each joined floor must answer what the bridge answers, or it measures something else.
        for (name, floorPort) in [
            ("the event-loop bridge floor", eventLoopBridgeFloor.port), ("the Hummingbird bridge floor", hummingbirdBridgeFloor.port),
            ("the SwiftNIO + Gate floor", nioGateFloor.port),
        ] {
            let answer = await HTTPProbe.send(.GET, port: floorPort, path: path, headers: [], limit: .seconds(5))
            guard answer.status == 200, answer.body == body.body else {
                await nioGateFloor.close()
                await hummingbirdBridgeFloor.close()
                await eventLoopBridgeFloor.close()
                throw LoadTools.BenchmarkFailure("\(name) answered \(answer.status) \(answer.body), not the bridge's body")
            }
        }
        /// `wrk` on `GET path` of the server at `port`, as every HTTP load runs.
        func wrkLoad(_ name: String, port: Int) -> Load {
            Load(name: name) {
                try await offLoop {
                    try LoadTools.wrk(url: "http://127.0.0.1:\(port)\(path)", header: header, connections: clients, seconds: seconds)
                }
            }
        }
        var loads = [
            wrkLoad("HTTP floor: Hummingbird, fixed body", port: floor.port),
            wrkLoad("bridge (HTTP, wrk)", port: port),
            Load(name: "Swift client floor: Gate, PostgresNIO") { try await clientFloor.run(seconds: seconds) },
            Load(name: "pgbench: core.gate_call, 1 statement") {
                try await offLoop {
                    try LoadTools.pgbench(binary: pgbench, url: databaseURL, script: direct, clients: clients, seconds: seconds, folder: folder)
                }
            },
            Load(name: "pgbench: BEGIN/settings/call/COMMIT") {
                try await offLoop {
                    try LoadTools.pgbench(binary: pgbench, url: databaseURL, script: handWritten, clients: clients, seconds: seconds, folder: folder)
                }
            },
            Load(name: "client floor: PostgresNIO futures") { try await eventLoopClientFloor.run(seconds: seconds) },
            wrkLoad("HTTP floor: SwiftNIO alone, fixed body", port: nioFloor.port),
            wrkLoad("bridge floor: SwiftNIO + futures, joined", port: eventLoopBridgeFloor.port),
            wrkLoad("bridge floor: Hummingbird + Gate, joined", port: hummingbirdBridgeFloor.port),
            wrkLoad("bridge floor: SwiftNIO + Gate, joined", port: nioGateFloor.port),
            wrkLoad("bridge, router only (lane off)", port: routedPort),
        ]
        _ = try await offLoop { try LoadTools.wrk(url: "http://127.0.0.1:\(routedPort)\(path)", header: header, connections: clients, seconds: 2) }
        let routed = await HTTPProbe.send(.GET, port: routedPort, path: path, headers: [("Authorization", "Bearer \(token)")], limit: .seconds(5))
        guard routed.status == 200, routed.body == body.body else {
            throw LoadTools.BenchmarkFailure("the bridge without its lane answered \(routed.status) \(routed.body), not the bridge's body")
        }
        if let pooledDatabaseURL {
            let pooledURL = "http://127.0.0.1:\(pooledPort)\(path)"
            _ = try await offLoop { try LoadTools.wrk(url: pooledURL, header: header, connections: clients, seconds: 2) }
            let answer = await HTTPProbe.send(.GET, port: pooledPort, path: path, headers: [("Authorization", "Bearer \(token)")], limit: .seconds(5))
            guard answer.status == 200, answer.body == body.body else {
                throw LoadTools.BenchmarkFailure("the bridge through PgBouncer answered \(answer.status) \(answer.body)")
            }
            loads += [
                Load(name: "bridge via PgBouncer (transaction)") {
                    try await offLoop { try LoadTools.wrk(url: pooledURL, header: header, connections: clients, seconds: seconds) }
                },
                Load(name: "pgbench via PgBouncer: core.gate_call") {
                    try await offLoop {
                        try LoadTools.pgbench(
                            binary: pgbench, url: pooledDatabaseURL, script: direct, clients: clients, seconds: seconds, folder: folder)
                    }
                },
            ]
        }
        var runs = Array(repeating: [Measured](), count: loads.count)
        for round in 1...rounds {
            Console.line("Round \(round) of \(rounds)…")
            for (index, load) in loads.enumerated() {
                runs[index].append(try await Self.measured(load.run, seconds: seconds, postmaster: postmaster))
            }
        }
        await clientFloor.close()
        await eventLoopClientFloor.close()
        await eventLoopBridgeFloor.close()
        await hummingbirdBridgeFloor.close()
        await nioGateFloor.close()
        let rows = zip(loads, runs).map { ($0.name, Self.median($1)) }
        let report = BridgeBenchmarkReport(
            clients: clients, seconds: seconds, rounds: rounds, rows: rows,
            curve: try await curvePoints(
                curve, bridgeURL: "http://127.0.0.1:\(port)\(path)", header: header, pgbench: pgbench, databaseURL: databaseURL,
                script: direct, folder: folder, postmaster: postmaster))
        Console.line(report.table)
        if let json {
            try report.json.write(toFile: json, atomically: true, encoding: .utf8)
        }
    }

    /// The bridge and pgbench's `core.gate_call` at each number of connections (the bridge's pool
    /// keeps `--clients` connections).
    private func curvePoints(
        _ connections: [Int], bridgeURL: String, header: String, pgbench: String, databaseURL: String, script: String, folder: String,
        postmaster: Int32?
    ) async throws -> [BridgeBenchmarkReport.CurvePoint] {
        var points: [BridgeBenchmarkReport.CurvePoint] = []
        let seconds = seconds
        for count in connections {
            Console.line("Curve: \(count) connections…")
            let bridge = try await Self.measured(
                { try await offLoop { try LoadTools.wrk(url: bridgeURL, header: header, connections: count, seconds: seconds) } },
                seconds: seconds, postmaster: postmaster)
            let direct = try await Self.measured(
                {
                    try await offLoop {
                        try LoadTools.pgbench(binary: pgbench, url: databaseURL, script: script, clients: count, seconds: seconds, folder: folder)
                    }
                }, seconds: seconds, postmaster: postmaster)
            points.append(BridgeBenchmarkReport.CurvePoint(connections: count, bridge: bridge, pgbench: direct))
        }
        return points
    }

    /// Runs one load between two CPU samples.
    private static func measured(
        _ run: @Sendable () async throws -> LoadTools.Figures, seconds: Int, postmaster: Int32?
    ) async throws -> Measured {
        let before = ProcessCPU.sample(postmaster: postmaster)
        let figures = try await run()
        return Measured(figures: figures, cpu: ProcessCPU.sample(postmaster: postmaster).since(before), seconds: seconds)
    }

    /// The user and one organization of theirs, created through the API as that user.
    static func seed(_ url: DatabaseURL, userID: UUID, claims: String) async throws {
        let logger = Logger(label: "smta.bench")
        try await url.withConnection(logger: logger) { connection in
            _ = try await connection.guardedQuery(
                "insert into core.users_meta (id, email) values (\(userID), 'bench@example.com') on conflict do nothing", logger: logger)
            _ = try await connection.guardedQuery(
                """
                select core.gate_call('authenticated', \(userID), \(claims), null, null, null, null, false, null,
                    'select pg_catalog.to_json(r) from public.create_organization(p_name => ''Bench'') r', '{}')
                """, logger: logger)
        }
    }

    /// The median of each figure, taken separately.
    private static func median(_ runs: [Measured]) -> Measured {
        func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let postgres = runs.compactMap(\.postgresMicros)
        return Measured(
            figures: LoadTools.Figures(
                perSecond: middle(runs.map(\.figures.perSecond)), p50: middle(runs.map(\.figures.p50)), p99: middle(runs.map(\.figures.p99))),
            ownMicros: middle(runs.map(\.ownMicros)), generatorMicros: middle(runs.map(\.generatorMicros)),
            postgresMicros: postgres.count == runs.count ? middle(postgres) : nil)
    }
}

/// Runs `body` on NIO's thread pool: the load tools block their thread until they exit, and this
/// process's tasks run on the event loops that serve the bridge.
private func offLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}
