import SMTACore
import SMTAOIDC
import SMTASchema
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// Raw HTTP against `smta serve` with the OIDC adapter, tokens signed by RS256 and ES256 keys
    /// of a JWKS the program serves itself: `Tests/Interop/test_bridge_oidc.py`.
    @Suite("OIDC access tokens reach the bridge as issuers sign them, and only those")
    struct OIDCInteropTests {
        @Test("Non-UUID subjects, two issuers, refused tokens, verified-email invitations, key rotation, JWKS outage")
        func oidcOverHTTP() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + OIDCSchema.migrations)
            try await InteropProgram(script: "test_bridge_oidc.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
