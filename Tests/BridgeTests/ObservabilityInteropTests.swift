import Testing

extension BridgeInteropTests {
    /// What `smta serve` tells operators, and how it treats misbehaving HTTP clients:
    /// `Tests/Interop/test_bridge_observability.py`.
    ///
    /// The program stops PostgreSQL to watch `/ready` and the metrics follow, so it gets a cluster
    /// of its own (``StoppableCluster``).
    @Suite("The bridge's metrics, probes, JSON log and connection guards, seen by real clients")
    struct ObservabilityInteropTests {
        @Test("Prometheus metrics, /live and /ready, the admin port, the JSON log, 431, header and idle timeouts")
        func observability() async throws {
            try await StoppableCluster.run { environment in
                try await InteropProgram(script: "test_bridge_observability.py").expectPasses(environment: environment)
            }
        }
    }
}
