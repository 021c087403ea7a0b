import Testing

extension BridgeInteropTests {
    /// `smta serve` with `read_database_url` naming a real streaming replica (``ReplicatedCluster``):
    /// `Tests/Interop/test_bridge_read_replica.py`, then `test_bridge_supabase.py` with every
    /// bridge given the replica.
    @Suite("Read replicas: GET of read-only functions on a replica, everything else and recent writers on the primary")
    struct ReadReplicaInteropTests {
        @Test("served by the replica, read-your-writes, POST on the primary, a replica down or lagging skipped, reads served while the primary is down, refusals kept; the postgrest-py program with a replica")
        func readReplica() async throws {
            try await ReplicatedCluster.run { databases in
                var supabase = databases.common
                supabase["SMTA_INTEROP_DATABASE_URL"] = databases.applied.primary.description
                supabase["SMTA_INTEROP_READ_DATABASE_URL"] = databases.applied.replica.description
                try await InteropProgram(script: "test_bridge_supabase.py").expectPasses(environment: supabase)

                var replica = databases.common
                replica["SMTA_INTEROP_DATABASE_URL"] = databases.asynchronous.primary.description
                replica["SMTA_INTEROP_READ_DATABASE_URL"] = databases.asynchronous.replica.description
                try await InteropProgram(script: "test_bridge_read_replica.py").expectPasses(environment: replica)
            }
        }
    }
}
