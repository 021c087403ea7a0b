import Foundation

/// The verdict of a fault run: figures per fault, the answers, and each goal met or missed.
struct FaultReport {
    let tallies: [FaultRun.Fault: FaultRun.Tally]
    let ledger: FaultLedger
    /// Writes whose database state contradicts their answers.
    let writeProblems: [String]
    let requestTimeout: Duration
    let elapsed: Duration

    /// The longest a fault may keep the bridge from serving.
    static let recoveryGoal = 5.0

    private var budget: Double { Double(requestTimeout.components.seconds) + 1 }
    private var iterations: Int { tallies.values.map(\.iterations).reduce(0, +) }
    private var worstRecovery: Double { tallies.values.flatMap(\.recoveries).max() ?? 0 }
    private var unexpectedStatuses: Int {
        ledger.statuses.filter { ![200, 503, 504].contains($0.key) }.values.reduce(0, +)
    }

    /// Whether every goal was met.
    var passed: Bool {
        ledger.violations.count == 0 && writeProblems.isEmpty && worstRecovery <= Self.recoveryGoal
            && ledger.worstSeconds <= budget && unexpectedStatuses == 0
    }

    /// The figures as a table, with the broken rules after it.
    var table: String {
        var lines = ["", "Faults: \(iterations) iterations in \(Int(elapsed.components.seconds)) s"]
        lines.append("  fault                          iterations   recovery median s   worst s")
        for fault in FaultRun.Fault.allCases {
            guard let tally = tallies[fault] else { continue }
            let sorted = tally.recoveries.sorted()
            lines.append(
                "  \(fault.rawValue.padding(toLength: 30, withPad: " ", startingAt: 0)) \(String(format: "%10d", tally.iterations))"
                    + "   \(String(format: "%17.2f", sorted[sorted.count / 2]))   \(String(format: "%7.2f", sorted.last ?? 0))")
        }
        let statuses = ledger.statuses.sorted { $0.key < $1.key }.map { "\($0.key == 0 ? "none" : String($0.key)): \($0.value)" }
        lines.append("Answers: \(statuses.joined(separator: ", ")); slowest \(String(format: "%.2f", ledger.worstSeconds)) s (goal ≤ \(String(format: "%.0f", budget)) s)")
        let writes = ledger.writes.values
        lines.append(
            "Writes: \(writes.filter { $0 == .applied }.count) applied, \(writes.filter { $0 == .notApplied }.count) answered not applied, "
                + "\(writes.filter { $0 == .unknown }.count) outcome unknown, \(writes.filter { $0 == .unresolved }.count) unresolved; "
                + "\(ledger.replays) answers replayed from an Idempotency-Key")
        lines.append("Writes contradicting their answers: \(writeProblems.count)")
        lines.append("Worst recovery: \(String(format: "%.2f", worstRecovery)) s (goal ≤ \(String(format: "%.0f", Self.recoveryGoal)) s)")
        let violations = ledger.violations
        lines.append("Broken rules: \(violations.count + writeProblems.count)")
        // The writes first: they are the rarest and the gravest.
        for line in (writeProblems + violations.first).prefix(30) {
            lines.append("  - \(line)")
        }
        lines.append(passed ? "PASSED" : "FAILED")
        return lines.joined(separator: "\n")
    }

    /// The figures as JSON.
    var json: String {
        var faults: [String] = []
        for fault in FaultRun.Fault.allCases {
            guard let tally = tallies[fault] else { continue }
            let sorted = tally.recoveries.sorted()
            faults.append(
                "{\"fault\":\"\(fault.rawValue)\",\"iterations\":\(tally.iterations),"
                    + "\"recovery_median_s\":\(String(format: "%.3f", sorted[sorted.count / 2])),\"recovery_worst_s\":\(String(format: "%.3f", sorted.last ?? 0))}")
        }
        let statuses = ledger.statuses.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }
        let writes = ledger.writes.values
        return "{\"iterations\":\(iterations),\"elapsed_s\":\(elapsed.components.seconds),\"faults\":[\(faults.joined(separator: ","))],"
            + "\"statuses\":{\(statuses.joined(separator: ","))},\"slowest_s\":\(String(format: "%.3f", ledger.worstSeconds)),"
            + "\"writes\":{\"applied\":\(writes.filter { $0 == .applied }.count),\"not_applied\":\(writes.filter { $0 == .notApplied }.count),"
            + "\"unknown\":\(writes.filter { $0 == .unknown }.count),\"unresolved\":\(writes.filter { $0 == .unresolved }.count)},"
            + "\"replays\":\(ledger.replays),\"write_problems\":\(writeProblems.count),\"violations\":\(ledger.violations.count),"
            + "\"broken_rules\":[\((writeProblems + ledger.violations.first).prefix(30).map(Self.quoted).joined(separator: ","))],"
            + "\"passed\":\(passed)}\n"
    }

    /// `text` as a JSON string.
    private static func quoted(_ text: String) -> String {
        let data = try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        return data.flatMap { String(data: $0, encoding: .utf8) }.map { String($0.dropFirst().dropLast()) } ?? "\"\""
    }
}
