import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// Faults outside PostgreSQL against `smta serve` with a 2-second `request_timeout`:
    /// `Tests/Interop/test_bridge_fault_edges.py`.
    @Suite("Fault edges: every answer within request_timeout + 1 s, never a 500, nothing written when refused")
    struct FaultEdgeInteropTests {
        @Test("JWKS down, failing or slow")
        func faultEdges() async throws {
            let supabase = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_bridge_fault_edges.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": supabase.description])
        }
    }
}
