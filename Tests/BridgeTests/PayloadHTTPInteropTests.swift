import SMTACore
import SMTAPayload
import SMTASchema
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// Raw HTTP against `smta serve` with the Payload adapter, sessions in a SQLite file laid out as
    /// Payload's SQLite adapter lays it out: `Tests/Interop/test_bridge_payload.py`.
    @Suite("Payload credentials reach the bridge as Payload sends them, and only while the session lives")
    struct PayloadHTTPInteropTests {
        @Test("JWT, Bearer and cookie transports, CSRF, logout, deleted users, identity mapping and invitations")
        func payloadOverHTTP() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + PayloadSchema.migrations)
            try await InteropProgram(script: "test_bridge_payload.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
