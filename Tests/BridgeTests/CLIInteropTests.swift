import SMTACore
import SMTAPayload
import SMTASchema
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// The `smta` command line after the README's two commands (`Tests/Interop/test_cli.py`):
    /// `smta dev` with each adapter and `smta token` following it, the port settings and a busy
    /// port, `smta migrate --status` reading the adapter from the database, and one clear line
    /// when the database cannot be reached.
    @Suite("The command line: dev, token, ports, migrate --status, an unreachable database")
    struct CLIInteropTests {
        @Test("smta dev / token / migrate / doctor, as a new user runs them")
        func commandLine() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + PayloadSchema.migrations)
            try await InteropProgram(script: "test_cli.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
