import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import SMTABridge
import SMTACore
import SMTADev
import SMTASupabase

/// One run of `smta bench faults`: the set-up, the faults in turn, and the verdict.
struct FaultRun {
    /// One kind of fault.
    enum Fault: String, CaseIterable, Sendable {
        case cut = "connections cut"
        case termination = "backends terminated"
        case stall = "network stalled"
        case restart = "PostgreSQL restarted"
        case coldStart = "PostgreSQL down at start-up"
    }

    /// What one kind of fault came to.
    struct Tally {
        var iterations = 0
        var recoveries: [Double] = []
    }

    let cluster: LocalCluster
    let options: FaultBenchmark

    private let secret = String(repeating: "f", count: 40)
    private var logger: Logger {
        var logger = Logger(label: "smta.bench.faults")
        logger.logLevel = options.logLevel
        return logger
    }

    /// Runs every fault its number of times and returns the report.
    func run() async throws -> FaultReport {
        let url = cluster.url()
        Console.line("Migrating for the supabase adapter…")
        try await Migrator(migrations: AdapterChoice.supabase.migrations).migrate(url)
        let roster = FaultLoad.Roster(try await seedUsers(url, generation: 0))
        let proxy = try FaultProxy(upstreamHost: "127.0.0.1", upstreamPort: cluster.port)
        let proxyPort = try await proxy.start()
        let ledger = FaultLedger()
        var tallies: [Fault: Tally] = [:]
        let started = ContinuousClock.now

        // PostgreSQL down when a bridge starts: 503s, then serving once it is back.
        for iteration in 0..<options.coldStarts {
            try await offLoop { try cluster.stop(immediate: iteration % 2 == 1) }
            let (server, port) = try await startBridge(databasePort: proxyPort)
            let load = FaultLoad(port: port, roster: roster, ledger: ledger, requestTimeout: requestTimeout, retryBudget: .seconds(30))
            for _ in 0..<3 {
                _ = await load.read(as: roster.users[0])
            }
            try await offLoop { try cluster.start(durable: true) }
            tallies[.coldStart, default: Tally()].record(try await recovery(load))
            server.cancel()
            _ = await server.result
        }

        let (server, port) = try await startBridge(databasePort: proxyPort)
        defer { server.cancel() }
        let load = FaultLoad(port: port, roster: roster, ledger: ledger, requestTimeout: requestTimeout, retryBudget: .seconds(30))
        let running = NIOLockedValueBox(true)
        let workers = Task { await load.run(workers: options.workers, running: running) }
        let schedule = Self.interleave([
            (.cut, options.cuts), (.termination, options.terminations), (.stall, options.stalls), (.restart, options.restarts),
        ])
        for (index, fault) in schedule.enumerated() {
            if index % 100 == 0 {
                Console.line("Fault \(index + 1) of \(schedule.count)…")
            }
            if index > 0, index % Self.faultsPerGeneration == 0 {
                roster.replace(with: try await seedUsers(url, generation: index / Self.faultsPerGeneration))
            }
            let iteration = tallies[fault]?.iterations ?? 0
            try await inject(fault, iteration: iteration, proxy: proxy, url: url)
            tallies[fault, default: Tally()].record(try await recovery(load))
            // Let the load run between faults.
            try await Task.sleep(for: .milliseconds(fault == .cut || fault == .termination ? 50 : 500))
        }
        running.withLockedValue { $0 = false }
        await workers.value
        await proxy.stop()

        let missing = try await verifyWrites(ledger.writes, url: url)
        return FaultReport(
            tallies: tallies, ledger: ledger, writeProblems: missing, requestTimeout: requestTimeout,
            elapsed: started.duration(to: .now))
    }

    private var requestTimeout: Duration { .seconds(options.requestTimeout) }

    /// Faults between two generations of users: each user creates a few hundred organizations at
    /// most, so listing them stays a small read however long the run (a run of 1,000 faults with
    /// the same two users ends with lists of ~18,000 rows, which meet `statement_timeout`).
    private static let faultsPerGeneration = 25

    /// Breaks things once.
    private func inject(_ fault: Fault, iteration: Int, proxy: FaultProxy, url: DatabaseURL) async throws {
        switch fault {
        case .cut:
            proxy.cutAll()
        case .termination:
            try await url.withConnection(logger: logger) { connection in
                _ = try await connection.guardedQuery(
                    """
                    select pg_catalog.pg_terminate_backend(pid) from pg_catalog.pg_stat_activity
                    where application_name = 'smta-bridge'
                    """, logger: logger)
            }
        case .stall:
            proxy.stall()
            try await Task.sleep(for: .seconds(options.stallSeconds))
            proxy.resume()
        case .restart:
            try await offLoop {
                try cluster.stop(immediate: iteration % 2 == 1)
                try cluster.start(durable: true)
            }
        case .coldStart:
            break
        }
    }

    /// Seconds until the bridge serves again (a 200 to each user in turn), then checks that each
    /// user, called alternately, sees only their own organizations.
    private func recovery(_ load: FaultLoad) async throws -> Double {
        let users = load.roster.users
        let start = ContinuousClock.now
        var served = Set<Int>()
        while served.count < users.count, start.duration(to: .now) < .seconds(60) {
            for (index, user) in users.enumerated() where await load.read(as: user) {
                served.insert(index)
            }
            if served.count < users.count {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let seconds = HTTPProbe.seconds(since: start)
        for round in 0..<4 {
            _ = await load.read(as: users[round % users.count])
        }
        return served.count == users.count ? seconds : .infinity
    }

    /// Starts a bridge whose database is reached through the proxy; returns it and its port.
    private func startBridge(databasePort: Int) async throws -> (Task<Void, Error>, Int) {
        let url = try DatabaseURL("postgres://postgres@127.0.0.1:\(databasePort)/postgres?sslmode=disable")
        let bridge = Bridge(
            adapter: try SupabaseAdapter(settings: SupabaseSettings(jwtSecret: secret)), database: url,
            settings: BridgeSettings(
                port: 0, poolSize: 8, requestTimeout: requestTimeout, statementTimeout: .seconds(1)),
            logger: logger)
        let listening = AsyncStream<Int>.makeStream()
        let server = Task { try await bridge.run(gracefulShutdownSignals: []) { port in listening.continuation.yield(port) } }
        for await port in listening.stream {
            return (server, port)
        }
        throw FaultBenchmarkFailure("the bridge did not start: \(String(describing: await server.result))")
    }

    /// Two new users with a home organization each, tagged `fa<generation>` and `fb<generation>`.
    private func seedUsers(_ url: DatabaseURL, generation: Int) async throws -> [FaultLoad.User] {
        var users: [FaultLoad.User] = []
        for tag in ["fa\(generation)", "fb\(generation)"] {
            let id = UUID()
            let claims = #"{"aud":"authenticated","sub":"\#(id.uuidString.lowercased())","role":"authenticated","email":"\#(tag)@example.com"}"#
            try await url.withConnection(logger: logger) { connection in
                _ = try await connection.guardedQuery(
                    "insert into core.users_meta (id, email) values (\(id), \(tag + "@example.com"))", logger: logger)
                _ = try await connection.guardedQuery(
                    """
                    select core.gate_call('authenticated', \(id), \(claims), null, null, null, null, false, null,
                        'select pg_catalog.to_json(r) from public.create_organization(p_name => $1->>''name'') r',
                        \(#"{"name":"\#(tag)-home"}"#)::json)
                    """, logger: logger)
            }
            let token = DevToken.supabase(userID: id, email: "\(tag)@example.com", secret: secret, lifetime: 86400)
            users.append(FaultLoad.User(tag: tag, authorization: "Bearer \(token)"))
        }
        return users
    }

    /// Compares the writes with the database: returns one line per broken rule.
    private func verifyWrites(_ writes: [String: FaultLedger.WriteOutcome], url: DatabaseURL) async throws -> [String] {
        var counts: [String: Int] = [:]
        try await url.withConnection(logger: logger) { connection in
            let rows = try await connection.guardedQuery(
                "select name, count(*)::int from core.organizations where name ~ '^f[ab][0-9]+-w' group by name", logger: logger)
            for row in rows {
                let (name, count) = try row.decode((String, Int).self)
                counts[name] = count
            }
        }
        var problems: [String] = []
        for (name, outcome) in writes {
            let count = counts[name] ?? 0
            switch outcome {
            case .applied where count != 1:
                problems.append("\(name): answered 200, \(count) in the database")
            case .notApplied where count != 0:
                problems.append("\(name): answered 'not applied' (503/504 with Retry-After), \(count) in the database")
            case .unknown where count > 1, .unresolved where count > 1:
                problems.append("\(name): \(count) in the database")
            default:
                break
            }
        }
        for (name, count) in counts where writes[name] == nil {
            problems.append("\(name): \(count) in the database, never asked for")
        }
        return problems.sorted()
    }

    /// The faults in an interleaved order: each kind spread over the run.
    private static func interleave(_ counts: [(Fault, Int)]) -> [Fault] {
        var placed: [(position: Double, fault: Fault)] = []
        for (fault, count) in counts where count > 0 {
            for index in 0..<count {
                placed.append(((Double(index) + 0.5) / Double(count), fault))
            }
        }
        return placed.sorted { $0.position < $1.position }.map(\.fault)
    }

    private func offLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(body)
    }
}

extension FaultRun.Tally {
    /// Counts one iteration and its recovery time.
    mutating func record(_ seconds: Double) {
        iterations += 1
        recoveries.append(seconds)
    }
}

/// The fault benchmark could not run.
struct FaultBenchmarkFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
