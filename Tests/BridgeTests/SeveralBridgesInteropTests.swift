import SMTACore
import SMTAPayload
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// Two `smta serve` processes on one database, called in turn as a round-robin balancer calls
    /// them: `Tests/Interop/test_bridge_several.py`.
    @Suite("Several bridges on one database answer alike: nothing kept in a process's memory changes an answer")
    struct SeveralBridgesInteropTests {
        @Test("tokens, memberships, Idempotency-Key, catalog reloads, webhooks to both at once, removed JWKS keys, Payload logout")
        func severalBridges() async throws {
            let supabase = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            let payload = try await TestCluster.shared.database(migrated: CoreSchema.migrations + PayloadSchema.migrations)
            try await InteropProgram(script: "test_bridge_several.py")
                .expectPasses(environment: [
                    "SMTA_INTEROP_DATABASE_URL": supabase.description,
                    "SMTA_INTEROP_PAYLOAD_DATABASE_URL": payload.description,
                ])
        }
    }
}
