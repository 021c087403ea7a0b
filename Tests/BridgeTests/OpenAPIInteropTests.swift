import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// The OpenAPI document judged by independent tools (openapi-spec-validator, psycopg against
    /// the catalog, schemathesis fuzzing every operation): `Tests/Interop/test_bridge_openapi.py`.
    @Suite("The OpenAPI document validates, matches the catalog, and fuzzing finds no server error")
    struct OpenAPIInteropTests {
        @Test("GET /, GET /rest/v1/ and smta openapi, validated and fuzzed")
        func openAPIDocument() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_bridge_openapi.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
