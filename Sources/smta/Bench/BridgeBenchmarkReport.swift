import Foundation

/// The figures of `smta bench bridge`: each load's medians, the ratios the goals are stated in,
/// and the curve over numbers of connections.
struct BridgeBenchmarkReport {
    /// The bridge and pgbench at one number of connections.
    struct CurvePoint {
        var connections: Int
        var bridge: BridgeBenchmark.Measured
        var pgbench: BridgeBenchmark.Measured
    }

    let clients: Int
    let seconds: Int
    let rounds: Int
    /// Each load's medians, in the order run: the HTTP floor, the bridge, the Swift client floor,
    /// pgbench's statement, pgbench's transaction, the event-loop client floor (PostgresNIO's
    /// futures), the event-loop HTTP floor (SwiftNIO alone), the event-loop bridge floor (the two
    /// joined), the Hummingbird bridge floor (Hummingbird and the Gate joined), the lane's floor
    /// (SwiftNIO and the Gate joined), the bridge without its lane; then, with `--pgbouncer`,
    /// the loads through PgBouncer.
    let rows: [(name: String, measured: BridgeBenchmark.Measured)]
    let curve: [CurvePoint]

    private var httpFloor: BridgeBenchmark.Measured { rows[0].measured }
    private var bridge: BridgeBenchmark.Measured { rows[1].measured }
    private var clientFloor: BridgeBenchmark.Measured { rows[2].measured }
    private var pgbench: BridgeBenchmark.Measured { rows[3].measured }
    private var eventLoopClientFloor: BridgeBenchmark.Measured { rows[5].measured }
    private var nioFloor: BridgeBenchmark.Measured { rows[6].measured }
    private var eventLoopBridgeFloor: BridgeBenchmark.Measured { rows[7].measured }
    private var hummingbirdBridgeFloor: BridgeBenchmark.Measured { rows[8].measured }
    private var laneFloor: BridgeBenchmark.Measured { rows[9].measured }
    private var routedBridge: BridgeBenchmark.Measured { rows[10].measured }

    /// The bridge's CPU per request over the HTTP floor's.
    var cpuOverHTTPFloor: Double { bridge.ownMicros / httpFloor.ownMicros }
    /// The bridge's throughput over pgbench's with the same statement.
    var throughputOverPgbench: Double { bridge.figures.perSecond / pgbench.figures.perSecond }

    /// The table printed after a run.
    var table: String {
        var lines = [
            "",
            "list_my_organizations, \(clients) clients, \(seconds) s runs, median of \(rounds) rounds, "
                + "\(ProcessInfo.processInfo.activeProcessorCount) cores",
            "                                                                           CPU µs per request",
            "  load                                   per second   p50 ms   p99 ms   this process  PostgreSQL  generator",
        ]
        for (name, measured) in rows {
            lines.append(
                "  \(name.padding(toLength: 38, withPad: " ", startingAt: 0)) \(Self.format(measured.figures.perSecond, 10, 0))"
                    + " \(Self.format(measured.figures.p50, 8, 2)) \(Self.format(measured.figures.p99, 8, 2))"
                    + "   \(Self.format(measured.ownMicros, 12, 0)) \(Self.optional(measured.postgresMicros, 11)) \(Self.format(measured.generatorMicros, 10, 0))")
        }
        lines.append("")
        lines.append(
            "Bridge CPU per request: \(Self.format(bridge.ownMicros, 0, 0)) µs = \(Self.format(cpuOverHTTPFloor, 0, 2)) × the HTTP floor's "
                + "\(Self.format(httpFloor.ownMicros, 0, 0)) µs (goal ≤ 2)")
        lines.append(
            "Bridge throughput: \(Self.format(throughputOverPgbench, 0, 2)) × pgbench's core.gate_call (goal ≥ 0.5, p99 ≤ 10 ms: "
                + "\(Self.format(bridge.figures.p99, 0, 2)) ms), \(Self.format(bridge.figures.perSecond / clientFloor.figures.perSecond, 0, 2)) × the Swift client floor, "
                + "\(Self.format(bridge.figures.perSecond / httpFloor.figures.perSecond, 0, 2)) × the HTTP floor")
        lines.append(
            "Beneath the bridge: HTTP floor \(Self.format(httpFloor.ownMicros, 0, 0)) µs + Swift client floor \(Self.format(clientFloor.ownMicros, 0, 0)) µs = "
                + "\(Self.format(httpFloor.ownMicros + clientFloor.ownMicros, 0, 0)) µs (\(Self.format((httpFloor.ownMicros + clientFloor.ownMicros) / httpFloor.ownMicros, 0, 2)) × the HTTP floor); "
                + "on the event loop, SwiftNIO \(Self.format(nioFloor.ownMicros, 0, 0)) µs + PostgresNIO's futures \(Self.format(eventLoopClientFloor.ownMicros, 0, 0)) µs = "
                + "\(Self.format(nioFloor.ownMicros + eventLoopClientFloor.ownMicros, 0, 0)) µs (\(Self.format((nioFloor.ownMicros + eventLoopClientFloor.ownMicros) / httpFloor.ownMicros, 0, 2)) × the HTTP floor)")
        lines.append(
            "Joined on the event loop: \(Self.format(eventLoopBridgeFloor.ownMicros, 0, 0)) µs (\(Self.format(eventLoopBridgeFloor.ownMicros / httpFloor.ownMicros, 0, 2)) × the HTTP floor), "
                + "\(Self.format(eventLoopBridgeFloor.figures.perSecond / pgbench.figures.perSecond, 0, 2)) × pgbench's throughput, p99 \(Self.format(eventLoopBridgeFloor.figures.p99, 0, 2)) ms")
        lines.append(
            "Joined on Hummingbird and the Gate: \(Self.format(hummingbirdBridgeFloor.ownMicros, 0, 0)) µs (\(Self.format(hummingbirdBridgeFloor.ownMicros / httpFloor.ownMicros, 0, 2)) × the HTTP floor); "
                + "the bridge's own work on that path: \(Self.format(routedBridge.ownMicros - hummingbirdBridgeFloor.ownMicros, 0, 0)) µs")
        lines.append(
            "Joined on SwiftNIO and the Gate (the lane's floor): \(Self.format(laneFloor.ownMicros, 0, 0)) µs (\(Self.format(laneFloor.ownMicros / httpFloor.ownMicros, 0, 2)) × the HTTP floor); "
                + "the bridge's own work on the lane: \(Self.format(bridge.ownMicros - laneFloor.ownMicros, 0, 0)) µs")
        lines.append(
            "The lane: the bridge \(Self.format(bridge.ownMicros, 0, 0)) µs against \(Self.format(routedBridge.ownMicros, 0, 0)) µs with every call through the router "
                + "(\(Self.format(bridge.ownMicros / routedBridge.ownMicros, 0, 2)) ×), \(Self.format(bridge.figures.perSecond / routedBridge.figures.perSecond, 0, 2)) × its throughput")
        if let bridgePostgres = bridge.postgresMicros, let directPostgres = pgbench.postgresMicros {
            lines.append(
                "PostgreSQL CPU per call: \(Self.format(bridgePostgres, 0, 0)) µs under the bridge, \(Self.format(directPostgres, 0, 0)) µs under pgbench")
        }
        if !curve.isEmpty {
            lines.append("")
            lines.append("  connections   bridge per second   p99 ms   pgbench per second   p99 ms   bridge/pgbench")
            for point in curve {
                lines.append(
                    "  \(Self.format(Double(point.connections), 11, 0))   \(Self.format(point.bridge.figures.perSecond, 17, 0))"
                        + " \(Self.format(point.bridge.figures.p99, 8, 2))   \(Self.format(point.pgbench.figures.perSecond, 18, 0))"
                        + " \(Self.format(point.pgbench.figures.p99, 8, 2))   \(Self.format(point.bridge.figures.perSecond / point.pgbench.figures.perSecond, 14, 2))")
            }
        }
        return lines.joined(separator: "\n")
    }

    /// The figures as JSON.
    var json: String {
        func entry(_ measured: BridgeBenchmark.Measured) -> String {
            "\"per_second\":\(Int(measured.figures.perSecond)),\"p50_ms\":\(Self.format(measured.figures.p50, 0, 3)),"
                + "\"p99_ms\":\(Self.format(measured.figures.p99, 0, 3)),\"cpu_us_per_request\":{\"process\":\(Self.format(measured.ownMicros, 0, 1)),"
                + "\"postgres\":\(measured.postgresMicros.map { Self.format($0, 0, 1) } ?? "null"),\"generator\":\(Self.format(measured.generatorMicros, 0, 1))}"
        }
        let results = rows.map { "{\"load\":\"\($0.name)\",\(entry($0.measured))}" }
        let points = curve.map { "{\"connections\":\($0.connections),\"bridge\":{\(entry($0.bridge))},\"pgbench\":{\(entry($0.pgbench))}}" }
        return "{\"clients\":\(clients),\"seconds\":\(seconds),\"rounds\":\(rounds),\"results\":[\(results.joined(separator: ","))],"
            + "\"bridge_cpu_over_http_floor\":\(Self.format(cpuOverHTTPFloor, 0, 3)),\"bridge_over_pgbench\":\(Self.format(throughputOverPgbench, 0, 3)),"
            + "\"curve\":[\(points.joined(separator: ","))]}\n"
    }

    private static func format(_ value: Double, _ width: Int, _ decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private static func optional(_ value: Double?, _ width: Int) -> String {
        value.map { format($0, width, 0) } ?? String(repeating: " ", count: width - 3) + "n/a"
    }
}
