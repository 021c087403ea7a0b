import Testing

extension BridgeInteropTests {
    /// `smta serve` across restarts of PostgreSQL and of itself: `Tests/Interop/test_bridge_restarts.py`.
    ///
    /// The program stops and restarts PostgreSQL, so it gets a cluster of its own
    /// (``StoppableCluster``).
    @Suite("The bridge answers 503 while PostgreSQL is away, recovers by itself, and stops gracefully")
    struct BridgeRestartInteropTests {
        @Test("database restarts and outages, a bridge started before its database, SIGTERM with a request in flight")
        func restarts() async throws {
            try await StoppableCluster.run { environment in
                try await InteropProgram(script: "test_bridge_restarts.py").expectPasses(environment: environment)
            }
        }
    }
}
