import Foundation

/// Everything one run of `smta bench tenancy` measured, with what it ran on: printed as a table,
/// written as JSON with `--json`.
struct TenancyBenchmarkReport: Codable, Sendable {
    /// `server_version` of the database measured.
    var postgres: String
    /// Processor cores of this machine (the database shares them when it is local).
    var cores: Int
    /// Rows in the measured table.
    var rows: Int
    /// Organizations the dataset created.
    var organizations: Int
    /// Rows of the largest organization (10%).
    var largestOrganizationRows: Int
    /// Samples per median (after warm-up runs).
    var runs: Int
    /// When it ran.
    var date: Date
    /// The lines of the table.
    var measurements: [TenancyMeasurement]

    /// The report as a table for a terminal.
    var table: String {
        var lines = [
            "Tenancy gate: \(rows) rows, \(organizations) organizations (largest: \(largestOrganizationRows) rows), median of \(runs) runs",
            "PostgreSQL \(postgres), \(cores) cores; server-side EXPLAIN (ANALYZE) times in ms",
            "Goal: \(TenancyShape.goal)",
            "",
            "                                      execution                                planning + execution",
            "memberships  query          rows    gated ms   by hand ms   over µs   ratio    gated ms   by hand ms   over µs   ratio   goal",
        ]
        for line in measurements {
            let overhead = (line.gatedMilliseconds - line.byHandMilliseconds) * 1000
            let totalOverhead = (line.gatedTotalMilliseconds - line.byHandTotalMilliseconds) * 1000
            lines.append(
                Self.column(String(line.memberships), 11) + "  " + line.shape.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + Self.column(String(line.rows), 9) + Self.column(Self.number(line.gatedMilliseconds, 3), 12)
                    + Self.column(Self.number(line.byHandMilliseconds, 3), 13) + Self.column(Self.number(overhead, 0), 10)
                    + Self.column(Self.number(line.ratio, 2), 8)
                    + Self.column(Self.number(line.gatedTotalMilliseconds, 3), 12)
                    + Self.column(Self.number(line.byHandTotalMilliseconds, 3), 13) + Self.column(Self.number(totalOverhead, 0), 10)
                    + Self.column(Self.number(line.totalRatio, 2), 8) + "   " + (line.goalMet ? "met" : "MISSED"))
        }
        return lines.joined(separator: "\n")
    }

    private static func number(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    private static func column(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
