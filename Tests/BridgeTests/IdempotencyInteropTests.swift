import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// `Idempotency-Key` over raw HTTP against `smta serve`, with psycopg reading what each call
    /// wrote: `Tests/Interop/test_bridge_idempotency.py`.
    @Suite("Idempotency-Key: a write is applied at most once per caller and key")
    struct IdempotencyInteropTests {
        @Test("Replays, another body, another user, ten concurrent copies, refused keys, failed calls, reads, no credential kept")
        func idempotencyKeys() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_bridge_idempotency.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
