import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// Stripe and Lemon Squeezy deliveries through `smta serve`, signed by the `stripe` package
    /// and Python's `hmac`: `Tests/Interop/test_billing_webhooks.py`.
    @Suite("Billing webhooks: each verified event recorded once and applied in the provider's order")
    struct BillingWebhookInteropTests {
        @Test("signatures, replays, concurrency, ordering, forgeries, rotation, unknown orgs, entitlements, seat limit")
        func billingWebhooks() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_billing_webhooks.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
