import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

extension BridgeInteropTests {
    /// `GET /rpc/{function}` answered from the channel pipeline, as a client sees it:
    /// `Tests/Interop/test_bridge_lane.py`.
    @Suite("The lane answers calls as the router would, in the order they were sent")
    struct RPCLaneInteropTests {
        @Test("pipelined order, the same answers as the router, metrics and log, SIGTERM and request_timeout")
        func lane() async throws {
            let database = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
            try await InteropProgram(script: "test_bridge_lane.py")
                .expectPasses(environment: ["SMTA_INTEROP_DATABASE_URL": database.description])
        }
    }
}
