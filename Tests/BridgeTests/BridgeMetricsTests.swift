import Logging
import SMTACore
import Testing

@testable import SMTABridge

@Suite("Metrics keep their label values within bounded sets, and the JSON log keeps numbers as numbers")
struct BridgeMetricsTests {
    private func exposition(_ metrics: BridgeMetrics) -> String {
        String(decoding: metrics.exposition(inFlight: 3, waiting: 1, databaseIsUp: true), as: UTF8.self)
    }

    @Test("refusal reasons are the kinds in snake case")
    func refusalReasons() {
        #expect(BridgeMetrics.label(.badSignature) == "bad_signature")
        #expect(BridgeMetrics.label(.notYetValid) == "not_yet_valid")
        #expect(BridgeMetrics.label(.expired) == "expired")
    }

    @Test("a webhook outcome outside the ledger's set is counted as other, never under its own text")
    func webhookOutcomes() {
        let metrics = BridgeMetrics(adapter: "supabase", poolSize: 4)
        metrics.recordWebhook(provider: "stripe", outcome: "applied")
        metrics.recordWebhook(provider: "stripe", outcome: "made-up outcome")
        let text = exposition(metrics)
        #expect(text.contains(#"smta_webhook_events_total{provider="stripe",outcome="applied"} 1"#))
        #expect(text.contains(#"smta_webhook_events_total{provider="stripe",outcome="other"} 1"#))
        #expect(!text.contains("made-up"))
    }

    @Test("the gauges show what is observed at the scrape, and the pool's size from the start")
    func gauges() {
        let text = exposition(BridgeMetrics(adapter: "payload", poolSize: 4))
        #expect(text.contains("smta_pool_connections_max 4"))
        #expect(text.contains("smta_calls_in_flight 3"))
        #expect(text.contains("smta_calls_waiting 1"))
        #expect(text.contains("smta_database_up 1"))
        #expect(text.contains("smta_database_outages_total 0"))
    }

    @Test("JSON log values: integers, doubles and booleans stay JSON numbers and booleans; the rest are escaped strings")
    func jsonLogValues() {
        #expect(JSONLogHandler.json(.stringConvertible(200)) == "200")
        #expect(JSONLogHandler.json(.stringConvertible(1.5)) == "1.5")
        #expect(JSONLogHandler.json(.stringConvertible(true)) == "true")
        #expect(JSONLogHandler.json(.string("a \"quoted\"\nline")) == #""a \"quoted\"\nline""#)
        #expect(JSONLogHandler.json(.dictionary(["b": "2", "a": .array(["x"])])) == #"{"a":["x"],"b":"2"}"#)
    }
}
