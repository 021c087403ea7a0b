import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// Supabase's own PostgREST client (postgrest-py) against `smta serve` with the Supabase
    /// adapter, tokens minted by PyJWT: `Tests/Interop/test_bridge_supabase.py`.
    @Suite("The postgrest client works against the bridge, and every bad request is refused without a change")
    struct SupabaseClientInteropTests {
        @Test("organizations, invitations, result shapes and PostgREST's errors through postgrest-py")
        func postgrestClient() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_bridge_supabase.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
