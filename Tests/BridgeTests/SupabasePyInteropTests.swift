import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// Supabase's official Python client (supabase-py) against `smta serve` with the Supabase
    /// adapter: `Tests/Interop/test_bridge_clients.py`.
    @Suite("supabase-py's RPC features return what PostgREST would, checked against the database")
    struct SupabasePyInteropTests {
        @Test("filters, order, paging, counts, head, single, schema, API keys and expired tokens through supabase-py")
        func supabasePy() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_bridge_clients.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
