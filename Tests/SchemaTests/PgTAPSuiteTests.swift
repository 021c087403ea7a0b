import Foundation
import SMTACore
import SMTAPayload
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

/// Runs the pgTAP suite in `Tests/SQL` against a freshly migrated database, once per adapter:
/// the same `common/` files under both identity mechanisms, plus each adapter's own files.
/// See `Tests/SQL/README.md` for the layout.
@Suite("pgTAP suite")
struct PgTAPSuiteTests {
    static let sqlFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("SQL").path

    @Test("the schema's pgTAP suite passes", arguments: ["supabase", "payload"])
    func suitePasses(adapter: String) async throws {
        let migrations = CoreSchema.migrations
            + (adapter == "supabase" ? SupabaseSchema.migrations : PayloadSchema.migrations)
        let url = try await TestCluster.shared.database(migrated: migrations)
        let connection = [
            "-h", url.host ?? "127.0.0.1", "-p", String(url.port), "-U", url.username, "-d", url.database,
        ]
        for support in ["support/setup.sql", "support/identity_\(adapter).sql"] {
            let result = try await TestTools.run(
                "psql", connection + ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-1", "-f", Self.sqlFolder + "/" + support])
            try #require(result.status == 0, "loading \(support) failed:\n\(result.output)")
        }
        let files = try testFiles(in: "common") + testFiles(in: adapter)
        try #require(!files.isEmpty, "no pgTAP files found in \(Self.sqlFolder)")
        let result = try await TestTools.run(
            "pg_prove", connection + ["--failures", "--comments"] + files,
            environment: [
                "PGOPTIONS": "-c client_min_messages=warning",
                // common/authz_declared_matrix.sql reads the declared matrix from here.
                "SMTA_AUTHZ_MATRIX": Self.sqlFolder + "/authz/matrix.json",
            ])
        print("pg_prove (\(adapter)):\n\(result.output)")
        #expect(result.status == 0, "pgTAP failures under the \(adapter) adapter:\n\(result.output)")
    }

    private func testFiles(in folder: String) throws -> [String] {
        let path = Self.sqlFolder + "/" + folder
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: path)
            .filter { $0.hasSuffix(".sql") }
            .sorted()
            .map { path + "/" + $0 }
    }
}
