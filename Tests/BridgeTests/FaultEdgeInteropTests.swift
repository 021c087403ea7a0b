import SMTACore
import SMTAPayload
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// Faults outside PostgreSQL — the JWKS endpoint, Payload's SQLite file, webhook deliveries
    /// cut or trickling — against `smta serve` with a 2-second `request_timeout`:
    /// `Tests/Interop/test_bridge_fault_edges.py`.
    @Suite("Fault edges: every answer within request_timeout + 1 s, never a 500, nothing written when refused")
    struct FaultEdgeInteropTests {
        @Test("JWKS down, failing or slow; Payload's SQLite file locked, missing, replaced or corrupt; webhooks cut or trickling")
        func faultEdges() async throws {
            let supabase = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            let payload = try await TestCluster.shared.database(migrated: CoreSchema.migrations + PayloadSchema.migrations)
            try await InteropProgram(script: "test_bridge_fault_edges.py")
                .expectPasses(environment: [
                    "SMTA_INTEROP_DATABASE_URL": supabase.description,
                    "SMTA_INTEROP_PAYLOAD_DATABASE_URL": payload.description,
                ])
        }
    }
}
