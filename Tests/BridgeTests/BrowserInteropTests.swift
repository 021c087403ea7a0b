import SMTACore
import SMTAPayload
import SMTASchema
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// Headless Chromium, driven by Selenium, loads pages from other origins on loopback that call
    /// `smta serve` (Payload adapter) with `fetch`: `Tests/Interop/test_bridge_browser.py`.
    @Suite("A web page on another origin calls the bridge in a real browser, and CORS decides what it may read")
    struct BrowserInteropTests {
        @Test("bearer from any origin, the Payload cookie from listed origins only, preflights as PostgREST answers them")
        func browserCalls() async throws {
            let url = try await TestCluster.shared.database(migrated: CoreSchema.migrations + PayloadSchema.migrations)
            try await InteropProgram(script: "test_bridge_browser.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": url.description])
        }
    }
}
