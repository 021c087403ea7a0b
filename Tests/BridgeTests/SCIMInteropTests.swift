import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// The SCIM endpoints judged by clients nobody here wrote: scim2-tester's conformance suite and
    /// an Okta-style sequence driven by scim2-client, with psycopg checking what they left, and
    /// every refusal from the outside (`Tests/Interop/test_scim.py`).
    @Suite("SCIM provisioning passes scim2-tester and leaves exactly the memberships the identity provider states")
    struct SCIMInteropTests {
        @Test("conformance, the Okta-style sequence, filters, ETags, and refusals that change nothing")
        func scim() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_scim.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
