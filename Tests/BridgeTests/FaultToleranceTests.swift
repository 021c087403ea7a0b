import Foundation
import SMTADev
import SMTATestSupport
import Testing

/// The bridge under repeated faults: `smta bench faults` with a few hundred iterations, judged
/// by the figures it writes.
///
/// The benchmark starts its own cluster, a fault proxy between it and an in-process bridge, and
/// a load of two users; it cuts every connection, terminates the pooled backends, stalls the
/// network beyond `statement_timeout`, restarts PostgreSQL (fast and immediate) and starts the
/// bridge with PostgreSQL down. Its own verdict covers every answer; this test reads its JSON
/// and checks the goals again, so that a benchmark that stopped judging would fail here.
@Suite("Faults: every call answered within its budget and truthfully, nothing lost, no identity crossing", .serialized)
struct FaultToleranceTests {
    @Test("cuts, terminated backends, stalls, restarts and a cold start, a few hundred times")
    func faults() async throws {
        let report = FileManager.default.temporaryDirectory.path + "/smta-faults-\(getpid())-\(UUID().uuidString.prefix(8)).json"
        defer { try? FileManager.default.removeItem(atPath: report) }
        let arguments = [
            "bench", "faults", "--cuts", "100", "--terminations", "100", "--stalls", "2", "--restarts", "4",
            "--cold-starts", "1", "--stall-seconds", "3", "--request-timeout", "2", "--json", report,
        ]
        let executable = try InteropProgram.smtaExecutable()
        let result = try await TestTools.run(executable, arguments)
        print(result.output)
        #expect(result.status == 0, "smta bench faults failed:\n\(result.output)")
        let figures = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(figures["iterations"] as? Int == 207)
        #expect(figures["passed"] as? Bool == true)
        #expect(figures["violations"] as? Int == 0)
        #expect(figures["write_problems"] as? Int == 0)
        let slowest = try #require(figures["slowest_s"] as? Double)
        #expect(slowest <= 3, "an answer took \(slowest) s, over the 2 s request_timeout + 1 s")
        let statuses = try #require(figures["statuses"] as? [String: Int])
        #expect(Set(statuses.keys).isSubset(of: ["200", "503", "504"]), "unexpected statuses \(statuses)")
        #expect((statuses["200"] ?? 0) > 1000, "too little load went through: \(statuses)")
        let writes = try #require(figures["writes"] as? [String: Int])
        #expect((writes["applied"] ?? 0) > 100, "too few writes applied: \(writes)")
        for fault in try #require(figures["faults"] as? [[String: Any]]) {
            let worst = try #require(fault["recovery_worst_s"] as? Double)
            #expect(worst <= 5, "\(fault["fault"] ?? "?"): serving again took \(worst) s")
        }
    }
}
