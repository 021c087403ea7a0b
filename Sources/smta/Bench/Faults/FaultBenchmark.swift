import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import PostgresNIO
import SMTABridge
import SMTACore
import SMTADev
import SMTASupabase

/// `smta bench faults`: breaks the bridge's database under load, over and over, and checks that
/// every request is answered within its budget and truthfully, that nothing is lost and that no
/// identity crosses over.
///
/// A throwaway cluster, a ``FaultProxy`` between it and an in-process bridge (Supabase adapter),
/// and a ``FaultLoad`` of two users creating organizations (half with an Idempotency-Key) and
/// listing theirs; a fresh pair of users every 25 faults keeps each list short. Faults, each counted as an iteration: every connection cut; pooled backends
/// terminated by `pg_terminate_backend`; the network stalled longer than `statement_timeout`;
/// PostgreSQL restarted fast and immediate; PostgreSQL down when the bridge starts. After each,
/// the time until the bridge serves again is measured and the two users are checked in turn.
///
/// Goals (exit status 1 when one is missed): every answer within `request_timeout` + 1 s; only
/// 200, 503 with `Retry-After` or 504 while faults last; serving again within 5 s; every write
/// answered 200 in the database exactly once, every write answered "not applied" absent, no
/// duplicate; no user shown another's organization.
struct FaultBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Break the database connection under load, repeatedly, and check every answer.")

    @Option(help: "Iterations of: every connection cut.")
    var cuts = 450
    @Option(help: "Iterations of: the bridge's pooled backends terminated.")
    var terminations = 450
    @Option(help: "Iterations of: the network stalled (no FIN, no RST) for --stall-seconds.")
    var stalls = 30
    @Option(help: "Iterations of: PostgreSQL restarted (fast and immediate in turn).")
    var restarts = 60
    @Option(help: "Iterations of: PostgreSQL down when the bridge starts.")
    var coldStarts = 10
    @Option(help: "Seconds each stall lasts.")
    var stallSeconds = 4
    @Option(help: "The bridge's request_timeout, in seconds.")
    var requestTimeout = 2
    @Option(help: "Concurrent callers.")
    var workers = 8
    @Option(help: "Write the figures as JSON to this file.")
    var json: String?
    @Option(help: "The in-process bridge's log level (its log goes to standard error).")
    var logLevel: Logger.Level = .critical

    func run() async throws {
        // Durable: an immediate stop must not lose a committed write.
        let report = try await ThrowawayCluster.with(durable: true) { cluster in
            try await FaultRun(cluster: cluster, options: self).run()
        }
        Console.line(report.table)
        if let json {
            try report.json.write(toFile: json, atomically: true, encoding: .utf8)
        }
        guard report.passed else {
            throw ExitCode(1)
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
