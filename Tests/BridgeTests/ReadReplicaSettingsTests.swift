import SMTACore
import Testing

@testable import SMTABridge

/// `read_database_url`, `max_replica_lag` and `replica_lag` as `smta serve` reads them.
@Suite("Read replica settings")
struct ReadReplicaSettingsTests {
    @Test("several comma-separated replicas; replica_lag defaults to max_replica_lag plus two probe periods")
    func replicas() throws {
        let settings = try BridgeSettings(configuration: Configuration(values: [
            .readDatabaseURL: "postgres://reader:pw@replica-1:5433/app, postgres://reader@replica-2/app?sslmode=require",
        ]))
        #expect(settings.readDatabases.map(\.host) == ["replica-1", "replica-2"])
        #expect(settings.readDatabases.map(\.port) == [5433, 5432])
        #expect(settings.maxReplicaLag == .seconds(5))
        #expect(settings.replicaLag == .seconds(7))

        let tighter = try BridgeSettings(configuration: Configuration(values: [.maxReplicaLag: "2"]))
        #expect(tighter.readDatabases.isEmpty)
        #expect(tighter.replicaLag == .seconds(4))
        let explicit = try BridgeSettings(configuration: Configuration(values: [.maxReplicaLag: "2", .replicaLag: "0.5"]))
        #expect(explicit.replicaLag == .milliseconds(500))
    }

    @Test("a URL that is not PostgreSQL's, or a lag out of range, stops start-up naming the key, never the password")
    func refused() {
        let cases: [(Configuration.Key, String, String)] = [
            (.readDatabaseURL, "mysql://reader:hunter2secret@replica/app", "SMTA_READ_DATABASE_URL"),
            (.maxReplicaLag, "0", "SMTA_MAX_REPLICA_LAG"),
            (.replicaLag, "-1", "SMTA_REPLICA_LAG"),
        ]
        for (key, value, name) in cases {
            do {
                _ = try BridgeSettings(configuration: Configuration(values: [key: value]))
                Issue.record("\(name)=\(value) was accepted")
            } catch {
                #expect(error.key == name)
                #expect(!error.description.contains("hunter2secret"))
            }
        }
    }
}
