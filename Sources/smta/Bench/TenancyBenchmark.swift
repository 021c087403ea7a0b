import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import SMTACore
import SMTADev

/// `smta bench tenancy`: what the tenancy gate costs. Builds ``TenancyDataset`` (1,000
/// organizations, `--rows` rows in a table protected by `core.enable_tenancy`, users with 1, 10
/// and 100 memberships), then, for each user and each ``TenancyShape``, takes the median of
/// PostgreSQL's own execution time of the query gated (as the user) and by hand (without RLS,
/// the user's organizations written into the query), after checking that both return the same
/// rows. Runs alternate gated and by hand, after warm-up runs.
///
/// Where: `--database-url` (a scratch database it migrates and fills; refused when `app` holds
/// data, unless `--allow-existing-data`), or by default a throwaway cluster removed afterwards.
struct TenancyBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenancy",
        abstract: "Measure the tenancy gate: gated queries against the same queries filtered by hand.",
        discussion: """
            Server-side times (EXPLAIN ANALYZE), so a debug build measures the same as a release \
            build. The full size (1,000,000 rows) takes about a minute and 250 MB of disk. Run it \
            on a quiet machine: the gate's fixed cost is tens of microseconds.
            """)

    @Option(name: .customLong("database-url"), help: "A scratch PostgreSQL to migrate and fill (default: a throwaway cluster).")
    var databaseURL: String?

    @Flag(help: "Use --database-url even when tables of schema app hold rows (the benchmark's own table is rebuilt).")
    var allowExistingData = false

    @Option(help: "The adapter whose SQL part is migrated: supabase or payload.")
    var adapter: AdapterChoice = .payload

    @Option(help: "Rows in the measured table.")
    var rows = 1_000_000

    @Option(help: "Samples per median (after 3 warm-up runs).")
    var runs = 21

    @Option(help: "Write the figures as JSON to this file.")
    var json: String?

    private static let warmUpRuns = 3

    func validate() throws {
        guard rows >= 10 * TenancyDataset.organizationCount else {
            throw ValidationError("--rows must be at least \(10 * TenancyDataset.organizationCount), so that every organization can hold rows")
        }
        guard runs >= 1 else { throw ValidationError("--runs must be at least 1") }
    }

    func run() async throws {
        if let databaseURL {
            try await measure(try DatabaseURL(databaseURL), throwaway: false)
            return
        }
        let folder = FileManager.default.temporaryDirectory.path + "/smta-bench-tenancy-\(UUID().uuidString)"
        let cluster = LocalCluster(directory: folder + "/postgres", port: try LocalCluster.freePort(), binaries: try PostgresBinaries.locate())
        Console.line("Starting a throwaway PostgreSQL cluster in \(folder)…")
        try cluster.create()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try cluster.start(durable: false)
        defer { try? cluster.stop(immediate: true) }
        try await measure(cluster.url(), throwaway: true)
    }

    private func measure(_ url: DatabaseURL, throwaway: Bool) async throws {
        var logger = Logger(label: "smta.bench")
        logger.logLevel = .warning
        let report = try await url.withConnection(logger: logger) { connection in
            try await measure(url, on: connection, logger: logger, throwaway: throwaway)
        }
        do {
            Console.line("")
            Console.line(report.table)
            if let json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.keyEncodingStrategy = .convertToSnakeCase
                encoder.dateEncodingStrategy = .iso8601
                try encoder.encode(report).write(to: URL(fileURLWithPath: json))
                Console.line("\nWrote \(json)")
            }
        }
    }

    private func measure(_ url: DatabaseURL, on connection: PostgresConnection, logger: Logger, throwaway: Bool) async throws -> TenancyBenchmarkReport {
        if !throwaway {
            let occupied = try await TenancyDataset.applicationData(on: connection, logger: logger)
            if !occupied.isEmpty && !allowExistingData {
                throw LoadTools.BenchmarkFailure(
                    "\(url) holds application data (\(occupied.joined(separator: ", "))): point --database-url at a scratch database, or pass --allow-existing-data")
            }
        }
        Console.line("Migrating \(url) for the \(adapter.rawValue) adapter…")
        try await Migrator(migrations: adapter.migrations).migrate(url)
        _ = try await connection.guardedQuery("drop table if exists \(unescaped: TenancyDataset.table)", logger: logger)

        var dataset = TenancyDataset(rows: rows)
        let started = ContinuousClock.now
        try await dataset.build(on: connection, logger: logger) { step in Console.line("  \(step)…") }
        Console.line("  built in \(started.duration(to: .now).formatted(.units(allowed: [.minutes, .seconds], width: .narrow)))")

        let timer = ServerTimer(connection: connection, logger: logger)
        try await timer.install()
        var measurements: [TenancyMeasurement] = []
        for (member, memberships) in zip(dataset.members, TenancyDataset.membershipCounts) {
            for shape in TenancyShape.allCases {
                Console.line("Measuring \(shape.rawValue) for a user with \(memberships) membership(s)…")
                measurements.append(try await measure(shape, for: member, memberships: memberships, in: dataset, with: timer))
            }
        }
        let version = try await connection.guardedQuery("select pg_catalog.current_setting('server_version')", logger: logger)
            .first?.decode(String.self) ?? "unknown"
        return TenancyBenchmarkReport(
            postgres: version, cores: ProcessInfo.processInfo.activeProcessorCount, rows: rows,
            organizations: TenancyDataset.organizationCount, largestOrganizationRows: dataset.largestOrganizationRows,
            runs: runs, date: Date(), measurements: measurements)
    }

    private func measure(
        _ shape: TenancyShape, for member: TenancyDataset.Member, memberships: Int, in dataset: TenancyDataset, with timer: ServerTimer
    ) async throws -> TenancyMeasurement {
        let (gated, byHand) = shape.statements(for: member, in: dataset)
        let gatedResult = try await timer.result(of: gated, as: member.id)
        let byHandResult = try await timer.result(of: byHand, as: nil)
        guard gatedResult == byHandResult else {
            throw LoadTools.BenchmarkFailure("the gated \(shape.rawValue) returned other rows than the same query filtered by hand")
        }
        let rows = try Self.rowCount(shape, result: gatedResult)

        var gatedTimings: [ServerTimer.Timing] = [], byHandTimings: [ServerTimer.Timing] = []
        for run in 0..<(Self.warmUpRuns + runs) {
            let gatedTiming = try await timer.timing(of: gated, as: member.id)
            let byHandTiming = try await timer.timing(of: byHand, as: nil)
            if run >= Self.warmUpRuns {
                gatedTimings.append(gatedTiming)
                byHandTimings.append(byHandTiming)
            }
        }
        let gatedMedian = ServerTimer.median(gatedTimings.map(\.execution))
        let byHandMedian = ServerTimer.median(byHandTimings.map(\.execution))
        let gatedTotal = ServerTimer.median(gatedTimings.map { $0.planning + $0.execution })
        let byHandTotal = ServerTimer.median(byHandTimings.map { $0.planning + $0.execution })
        return TenancyMeasurement(
            memberships: memberships, shape: shape, rows: rows,
            gatedMilliseconds: gatedMedian, byHandMilliseconds: byHandMedian,
            gatedPlanningMilliseconds: ServerTimer.median(gatedTimings.map(\.planning)),
            byHandPlanningMilliseconds: ServerTimer.median(byHandTimings.map(\.planning)),
            ratio: gatedMedian / byHandMedian,
            gatedTotalMilliseconds: gatedTotal, byHandTotalMilliseconds: byHandTotal, totalRatio: gatedTotal / byHandTotal,
            gatedPlan: gatedTimings.last?.plan ?? "", byHandPlan: byHandTimings.last?.plan ?? "",
            goal: TenancyShape.goal,
            goalMet: TenancyShape.meetsGoal(gated: gatedTotal, byHand: byHandTotal))
    }

    /// Rows a query returned, from its JSON result (the counted value for ``TenancyShape/count``).
    private static func rowCount(_ shape: TenancyShape, result: String) throws -> Int {
        guard let rows = try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [[String: Any]] else {
            throw LoadTools.BenchmarkFailure("unreadable result: \(result)")
        }
        if shape == .count, let count = rows.first?["count"] as? Int {
            return count
        }
        return rows.count
    }
}
