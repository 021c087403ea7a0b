import Foundation
import SMTADev

/// The load generators the bridge benchmark drives: `wrk` for HTTP, `pgbench` for direct SQL.
enum LoadTools {
    /// One load run's figures.
    struct Figures {
        /// Completed requests or transactions per second.
        var perSecond: Double
        /// Median latency, in milliseconds.
        var p50: Double
        /// 99th-percentile latency, in milliseconds.
        var p99: Double

        init(perSecond: Double, p50: Double, p99: Double) {
            self.perSecond = perSecond
            self.p50 = p50
            self.p99 = p99
        }

        /// The figures of a run from its rate and every latency (milliseconds, any order, not empty).
        init(perSecond: Double, latencies: [Double]) {
            let sorted = latencies.sorted()
            self.init(perSecond: perSecond, p50: sorted[sorted.count / 2], p99: sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
        }
    }

    /// Runs `wrk` with `connections` connections for `seconds` against `url`.
    static func wrk(url: String, header: String, connections: Int, seconds: Int) throws -> Figures {
        let output = try ProcessRunner.run(
            "wrk", ["-t\(min(2, connections))", "-c\(connections)", "-d\(seconds)s", "--latency", "-H", header, url])
        guard !output.contains("Non-2xx"), !output.contains("Socket errors") else {
            throw BenchmarkFailure("the bridge answered errors under load:\n\(output)")
        }
        return Figures(
            perSecond: try number(after: "Requests/sec:", in: output),
            p50: try milliseconds(after: " 50%", in: output), p99: try milliseconds(after: " 99%", in: output))
    }

    /// Runs `pgbench` with `script` over `clients` connections for `seconds`; latencies come from
    /// its per-transaction log.
    static func pgbench(binary: String, url: String, script: String, clients: Int, seconds: Int, folder: String) throws -> Figures {
        let scriptPath = folder + "/script-\(UUID().uuidString).sql"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let prefix = folder + "/pgbench-\(UUID().uuidString)"
        let output = try ProcessRunner.run(
            binary, ["-n", "-M", "extended", "-c\(clients)", "-j\(min(2, clients))", "-T\(seconds)", "-f", scriptPath,
                     "--log", "--log-prefix=\(prefix)", url])
        var latencies: [Double] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: folder) where (folder + "/" + file).hasPrefix(prefix) {
            let text = try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count > 2, let micros = Double(fields[2]) { latencies.append(micros / 1000) }
            }
            try FileManager.default.removeItem(atPath: folder + "/" + file)
        }
        guard !latencies.isEmpty else {
            throw BenchmarkFailure("no transaction logged:\n\(output)")
        }
        return Figures(perSecond: try number(after: "tps =", in: output), latencies: latencies)
    }

    /// A load run whose output could not be read, or that met errors.
    struct BenchmarkFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    private static func number(after label: String, in output: String) throws -> Double {
        guard let range = output.range(of: label),
            let value = Double(output[range.upperBound...].drop { $0 == " " }.prefix { $0.isNumber || $0 == "." })
        else {
            throw BenchmarkFailure("no '\(label)' in:\n\(output)")
        }
        return value
    }

    /// wrk prints `50%  1.23ms` (or `us`, `s`).
    private static func milliseconds(after label: String, in output: String) throws -> Double {
        guard let range = output.range(of: label) else {
            throw BenchmarkFailure("no '\(label)' in:\n\(output)")
        }
        let text = output[range.upperBound...].drop { $0 == " " }.prefix { !$0.isWhitespace }
        let digits = text.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(digits) else {
            throw BenchmarkFailure("bad latency '\(text)'")
        }
        switch text.dropFirst(digits.count) {
        case "us": return value / 1000
        case "s": return value * 1000
        default: return value
        }
    }
}
