import SMTACore
import SMTAPayload
import SMTASchema
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// `smta domains verify` against dnslib's DNS server (`Tests/Interop/test_domains_verify.py`):
    /// a claim whose TXT record holds its token is verified, one without is not, a domain another
    /// organization verified first stays unverified, an unreachable server exits 1.
    @Suite("smta domains verify reads organizations' TXT records from a real DNS server")
    struct DomainsVerifyInteropTests {
        @Test("published, wrong, missing and rival records; an unreachable server; a bad option")
        func verifyDomains() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + PayloadSchema.migrations)
            try await InteropProgram(script: "test_domains_verify.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
