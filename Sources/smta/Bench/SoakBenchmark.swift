import ArgumentParser
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import SMTABridge
import SMTACore
import SMTADev
import SMTASupabase

/// `smta bench soak`: the bridge under steady load for minutes, watching its memory and file
/// descriptors, to tell a leak from warm-up.
///
/// An in-process bridge (Supabase adapter, a throwaway cluster) serves `list_my_organizations`
/// to `wrk` for `--minutes`; this process's resident memory and open descriptors are sampled
/// every few seconds. Reported: RSS at the end of the warm-up and at the end, their growth, the
/// descriptors before, during and after the load, and the non-2xx answers. Beside the load,
/// `--idle-connections` keep-alive clients make one call and sit idle and `--slow-clients` trickle
/// a header byte a second (``IdleClients``): the bridge must close them all (`idle_timeout`,
/// `header_timeout`) while the load keeps its latency. Goals: growth after warm-up ≤ 10 %, no
/// 5xx (no non-2xx at all), every idle and slow connection closed by the bridge, descriptors back
/// to where they were.
struct SoakBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Keep the bridge under load for minutes and watch its memory and file descriptors.")

    @Option(help: "Minutes of load.")
    var minutes = 10.0
    @Option(help: "Seconds of the load counted as warm-up.")
    var warmupSeconds = 60
    @Option(help: "Concurrent HTTP connections (and pool size).")
    var clients = 16
    @Option(help: "Keep-alive clients that make one call, then sit idle.")
    var idleConnections = 1000
    @Option(help: "Clients that trickle a header byte a second and never finish.")
    var slowClients = 20
    @Option(help: "The bridge's idle_timeout, in seconds.")
    var idleTimeout = 30
    @Option(help: "The bridge's header_timeout, in seconds.")
    var headerTimeout = 10
    @Option(help: "Write the figures as JSON to this file.")
    var json: String?

    func run() async throws {
        let report = try await ThrowawayCluster.with { cluster in try await soak(cluster.url()) }
        Console.line(report.table)
        if let json {
            try report.json.write(toFile: json, atomically: true, encoding: .utf8)
        }
        guard report.passed else {
            throw ExitCode(1)
        }
    }

    /// Migrates `url`, serves it with an in-process bridge and keeps it under load.
    private func soak(_ url: DatabaseURL) async throws -> SoakReport {
        try await Migrator(migrations: AdapterChoice.supabase.migrations).migrate(url)
        let secret = String(repeating: "s", count: 40)
        let userID = UUID()
        let claims = #"{"aud":"authenticated","sub":"\#(userID.uuidString.lowercased())","role":"authenticated","email":"bench@example.com"}"#
        try await BridgeBenchmark.seed(url, userID: userID, claims: claims)
        let token = DevToken.supabase(userID: userID, email: "bench@example.com", secret: secret, lifetime: 86400)

        var logger = Logger(label: "smta.bench.soak")
        logger.logLevel = .critical
        let bridge = Bridge(
            adapter: try SupabaseAdapter(settings: SupabaseSettings(jwtSecret: secret)), database: url,
            settings: BridgeSettings(
                port: 0, poolSize: clients, idleTimeout: .seconds(idleTimeout), headerTimeout: .seconds(headerTimeout)),
            logger: logger)
        let listening = AsyncStream<Int>.makeStream()
        let server = Task { try await bridge.run(gracefulShutdownSignals: []) { listening.continuation.yield($0) } }
        defer { server.cancel() }
        var port = 0
        for await bound in listening.stream {
            port = bound
            break
        }

        let seconds = Int(minutes * 60)
        let (clients, endpoint) = (clients, "http://127.0.0.1:\(port)/rpc/list_my_organizations")
        // Warm up first, so that the baseline has the pool's connections open, as at the end.
        _ = try await NIOThreadPool.singleton.runIfActive {
            try ProcessRunner.run(
                "wrk", ["-t2", "-c\(clients)", "-d3s", "-H", "Authorization: Bearer \(token)", endpoint])
        }
        let descriptorsBefore = ProcessSample.now().descriptors
        let idlers = IdleClients()
        try await idlers.open(
            idle: idleConnections, slow: slowClients, port: port, path: "/rpc/list_my_organizations",
            authorization: "Bearer \(token)")
        Console.line("Soaking for \(seconds) s with \(clients) connections, \(idleConnections) idle and \(slowClients) slow beside them…")
        let load = Task {
            try await NIOThreadPool.singleton.runIfActive {
                try ProcessRunner.run(
                    "wrk", ["-t2", "-c\(clients)", "-d\(seconds)s", "--latency", "-H", "Authorization: Bearer \(token)", endpoint])
            }
        }
        let started = ContinuousClock.now
        var samples: [(seconds: Double, sample: ProcessSample)] = []
        while started.duration(to: .now) < .seconds(seconds) {
            try await Task.sleep(for: .seconds(5))
            samples.append((HTTPProbe.seconds(since: started), ProcessSample.now()))
        }
        let output = try await load.value
        // Every idle connection has been idle since the start: all closed by now if the
        // timeouts work (the load lasts longer than idle_timeout).
        try await Task.sleep(for: .seconds(3))
        let closedByBridge = idlers.closedCount
        await idlers.closeAll()
        try await Task.sleep(for: .seconds(1))
        let after = ProcessSample.now()

        return SoakReport(
            samples: samples, warmupSeconds: Double(warmupSeconds), descriptorsBefore: descriptorsBefore,
            descriptorsAfter: after.descriptors, wrkOutput: output, idleOpened: idlers.openedCount,
            idleClosedByBridge: closedByBridge)
    }
}

/// This process's resident memory and open file descriptors.
struct ProcessSample {
    /// Resident set size, in kibibytes (`VmRSS`).
    var residentKiB: Int
    /// Open file descriptors.
    var descriptors: Int

    /// Reads `/proc/self`.
    static func now() -> ProcessSample {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }
            .flatMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") } ?? 0
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        return ProcessSample(residentKiB: rss, descriptors: descriptors)
    }
}

/// The figures of a soak and their verdict.
struct SoakReport {
    let samples: [(seconds: Double, sample: ProcessSample)]
    let warmupSeconds: Double
    let descriptorsBefore: Int
    let descriptorsAfter: Int
    let wrkOutput: String
    /// Idle and slow connections opened beside the load.
    let idleOpened: Int
    /// How many of them the bridge had closed when the load ended.
    let idleClosedByBridge: Int

    private var afterWarmup: [ProcessSample] { samples.filter { $0.seconds >= warmupSeconds }.map(\.sample) }
    private var rssAtWarmup: Int { afterWarmup.first?.residentKiB ?? 0 }
    private var rssAtEnd: Int { afterWarmup.last?.residentKiB ?? 0 }
    private var rssPeak: Int { afterWarmup.map(\.residentKiB).max() ?? 0 }
    /// Growth of the resident memory from the end of warm-up to the end, in percent.
    var growth: Double { rssAtWarmup == 0 ? 0 : Double(rssAtEnd - rssAtWarmup) * 100 / Double(rssAtWarmup) }
    private var nonSuccess: Int { Self.number(after: "Non-2xx or 3xx responses:", in: wrkOutput) }
    private var socketErrors: Bool { wrkOutput.contains("Socket errors") }
    /// wrk's own line about socket errors (connect, read, write, timeout), if it printed one.
    private var socketErrorLine: String {
        wrkOutput.split(separator: "\n").first { $0.contains("Socket errors") }.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }
    private var requestsPerSecond: Double { Double(Self.text(after: "Requests/sec:", in: wrkOutput)) ?? 0 }
    private var descriptorsPeak: Int { samples.map(\.sample.descriptors).max() ?? 0 }

    /// Whether growth ≤ 10 %, every answer 2xx, every idle and slow connection closed by the
    /// bridge, and the descriptors back within 2 of the start.
    var passed: Bool {
        growth <= 10 && nonSuccess == 0 && !socketErrors && descriptorsAfter <= descriptorsBefore + 2 && !afterWarmup.isEmpty
            && idleClosedByBridge == idleOpened
    }

    private var p99: String { String(Self.text(after: " 99%", in: wrkOutput)) }

    var table: String {
        [
            "",
            "Soak: \(samples.last.map { Int($0.seconds) } ?? 0) s, \(String(format: "%.0f", requestsPerSecond)) requests/s",
            "  RSS after \(Int(warmupSeconds)) s warm-up: \(rssAtWarmup / 1024) MiB; at the end: \(rssAtEnd / 1024) MiB; peak \(rssPeak / 1024) MiB; growth \(String(format: "%.1f", growth)) % (goal ≤ 10 %)",
            "  file descriptors: \(descriptorsBefore) before, \(descriptorsPeak) at most during, \(descriptorsAfter) after",
            "  non-2xx answers: \(nonSuccess)\(socketErrors ? "; wrk: \(socketErrorLine)" : ""); load p99 \(p99)",
            "  idle and slow connections: \(idleOpened) opened, \(idleClosedByBridge) closed by the bridge",
            "  RSS samples (s: MiB): " + samples.map { "\(Int($0.seconds)): \($0.sample.residentKiB / 1024)" }.joined(separator: ", "),
            passed ? "PASSED" : "FAILED",
        ].joined(separator: "\n")
    }

    var json: String {
        let series = samples.map { "[\(Int($0.seconds)),\($0.sample.residentKiB),\($0.sample.descriptors)]" }.joined(separator: ",")
        return "{\"requests_per_second\":\(String(format: "%.0f", requestsPerSecond)),\"rss_warmup_kib\":\(rssAtWarmup),"
            + "\"rss_end_kib\":\(rssAtEnd),\"rss_peak_kib\":\(rssPeak),\"growth_percent\":\(String(format: "%.2f", growth)),"
            + "\"fds_before\":\(descriptorsBefore),\"fds_peak\":\(descriptorsPeak),\"fds_after\":\(descriptorsAfter),"
            + "\"non_2xx\":\(nonSuccess),\"socket_errors\":\"\(socketErrorLine)\",\"p99\":\"\(p99)\",\"idle_opened\":\(idleOpened),\"idle_closed_by_bridge\":\(idleClosedByBridge),"
            + "\"samples\":[\(series)],\"passed\":\(passed)}\n"
    }

    private static func text(after label: String, in output: String) -> Substring {
        guard let range = output.range(of: label) else { return "" }
        return output[range.upperBound...].drop { $0 == " " }.prefix { !$0.isWhitespace }
    }

    private static func number(after label: String, in output: String) -> Int {
        Int(text(after: label, in: output)) ?? 0
    }
}
