import Foundation
import SMTACore
import SMTADev
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

@testable import SMTABridge

/// The read replicas' metrics: reads a replica answered and reads it could not take are counted
/// under its label, and a scrape shows whether it serves and how far behind it is.
///
/// The "replica" that answers is the primary's own database under another pool (what is counted
/// is where the router sent the read, not replication, which `test_bridge_read_replica.py`
/// checks with a real standby); the one that cannot answer listens nowhere.
@Suite("Read replicas in the metrics")
struct ReadRouterMetricsTests {
    static func identity() -> Identity {
        let id = UUID()
        let claims = #"{"sub":"\#(id.uuidString.lowercased())","role":"authenticated","aud":"authenticated"}"#
        return Identity(userID: id, email: nil, role: .authenticated, claimsJSON: claims, source: "supabase")
    }

    static let statement = #"select coalesce(pg_catalog.json_agg(_r), '[]') from public."list_my_organizations"() as _r"#

    static func replica(_ url: DatabaseURL) throws -> ReadReplica {
        try ReadReplica(
            url: url, startupParameters: [], route: .session, size: 2, secretsKey: nil, allowsAnonymousUsers: false,
            maxLag: .seconds(5), logger: TestSQL.logger)
    }

    /// The value of `name`'s sample for `replica` in `text` (`smta_replica_reads_total{…} 1`).
    static func sample(_ name: String, replica: ReadReplica, in text: String) -> Double? {
        let prefix = #"\#(name){replica="\#(replica.label)"} "#
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    @Test("a read the replica answers counts under it; one it cannot take counts as a fallback, answered by the primary")
    func readsAndFallbacks() async throws {
        let database = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
        let primaryPool = RenewablePool(configuration: try database.connectionConfiguration(), size: 2, logger: TestSQL.logger)
        let answering = try Self.replica(database)
        let unreachable = try Self.replica(try DatabaseURL("postgres://postgres@127.0.0.1:\(try LocalCluster.freePort())/smta"))
        let metrics = BridgeMetrics(adapter: "supabase", poolSize: 2)
        // The pools run for the test's length: stopping them closes their connections.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for pool in [primaryPool, answering.pool, unreachable.pool] {
                group.addTask { await pool.run() }
            }
            defer { group.cancelAll() }
            try await Self.check(metrics: metrics, primaryPool: primaryPool, answering: answering, unreachable: unreachable)
        }
    }

    /// The checks, made while the pools run.
    private static func check(
        metrics: BridgeMetrics, primaryPool: RenewablePool, answering: ReadReplica, unreachable: ReadReplica
    ) async throws {
        let router = ReadRouter(
            primary: Gate(pool: primaryPool, logger: TestSQL.logger), replicas: [answering, unreachable],
            stickiness: WriterStickiness(window: .seconds(60)), metrics: metrics, logger: TestSQL.logger)
        func scrape() -> String {
            String(decoding: metrics.exposition(inFlight: 0, waiting: 0, databaseIsUp: true, replicas: router.observations), as: UTF8.self)
        }

        // Before any probe: both present, neither serving, no lag measured.
        var text = scrape()
        for replica in [answering, unreachable] {
            #expect(Self.sample("smta_replica_up", replica: replica, in: text) == 0)
            #expect(Self.sample("smta_replica_lag_seconds", replica: replica, in: text)?.isNaN == true)
            #expect(Self.sample("smta_replica_reads_total", replica: replica, in: text) == 0)
            #expect(Self.sample("smta_replica_fallbacks_total", replica: replica, in: text) == 0)
        }

        // Only the unreachable one usable: the read falls back to the primary.
        unreachable.record(.ready(lag: .milliseconds(250)))
        let reader = Self.identity()
        let first = try await router.read(Self.statement, arguments: "{}", as: reader)
        #expect(first.map { String(buffer: $0) } == "[]")
        text = scrape()
        #expect(Self.sample("smta_replica_fallbacks_total", replica: unreachable, in: text) == 1)
        #expect(Self.sample("smta_replica_reads_total", replica: unreachable, in: text) == 0)
        #expect(Self.sample("smta_replica_up", replica: unreachable, in: text) == 0, "a lost replica stops serving")
        #expect(Self.sample("smta_replica_lag_seconds", replica: unreachable, in: text)?.isNaN == true)

        // The answering one usable: the read is its own.
        answering.record(.ready(lag: .milliseconds(250)))
        let second = try await router.read(Self.statement, arguments: "{}", as: reader)
        #expect(second.map { String(buffer: $0) } == "[]")
        text = scrape()
        #expect(Self.sample("smta_replica_reads_total", replica: answering, in: text) == 1)
        #expect(Self.sample("smta_replica_fallbacks_total", replica: answering, in: text) == 0)
        #expect(Self.sample("smta_replica_up", replica: answering, in: text) == 1)
        // The lag the probe measured, grown by the time since: a bound, at the scrape.
        #expect(Self.sample("smta_replica_lag_seconds", replica: answering, in: text).map { (0.25..<1.25).contains($0) } == true)

        // A writer's read goes to the primary: no replica counts it.
        router.noteWrite(by: reader)
        _ = try await router.read(Self.statement, arguments: "{}", as: reader)
        text = scrape()
        #expect(Self.sample("smta_replica_reads_total", replica: answering, in: text) == 1)
        #expect(Self.sample("smta_replica_fallbacks_total", replica: unreachable, in: text) == 1)

        // Lagging: not serving, its lag shown.
        answering.record(.lagging(.seconds(9)))
        text = scrape()
        #expect(Self.sample("smta_replica_up", replica: answering, in: text) == 0)
        #expect(Self.sample("smta_replica_lag_seconds", replica: answering, in: text).map { (9.0..<10.0).contains($0) } == true)
    }

    @Test("a read a replica refuses as a write (25006) runs on the primary as a write, and its caller's next reads stay there")
    func writeRefusedByTheReplica() async throws {
        let database = try await TestCluster.shared.database(migrated: CoreSchema.migrations + SupabaseSchema.migrations)
        try await TestSQL.execute("create sequence public.fallback_probe", on: database)
        try await TestSQL.execute("grant usage on sequence public.fallback_probe to authenticated", on: database)
        let primaryPool = RenewablePool(configuration: try database.connectionConfiguration(), size: 2, logger: TestSQL.logger)
        // A replica as PostgreSQL makes one for this purpose: every transaction read-only.
        let replica = try ReadReplica(
            url: database, startupParameters: [("default_transaction_read_only", "on")], route: .session, size: 2, secretsKey: nil,
            allowsAnonymousUsers: false, maxLag: .seconds(5), logger: TestSQL.logger)
        let metrics = BridgeMetrics(adapter: "supabase", poolSize: 2)
        let (answer, sticky, fallbacks) = try await withThrowingTaskGroup(of: Void.self) { group in
            for pool in [primaryPool, replica.pool] {
                group.addTask { await pool.run() }
            }
            defer { group.cancelAll() }
            let router = ReadRouter(
                primary: Gate(pool: primaryPool, logger: TestSQL.logger), replicas: [replica],
                stickiness: WriterStickiness(window: .seconds(60)), metrics: metrics, logger: TestSQL.logger)
            replica.record(.ready(lag: .zero))
            let caller = Self.identity()
            let answer = try await router.read(
                "select pg_catalog.to_json(pg_catalog.nextval('public.fallback_probe'))", arguments: "{}", as: caller)
            let text = String(
                decoding: metrics.exposition(inFlight: 0, waiting: 0, databaseIsUp: true, replicas: router.observations), as: UTF8.self)
            return (
                answer.map { String(buffer: $0) }, router.stickiness.isSticky(caller),
                Self.sample("smta_replica_fallbacks_total", replica: replica, in: text)
            )
        }
        #expect(answer == "1", "the primary ran it")
        #expect(fallbacks == 1)
        #expect(sticky, "the caller wrote: their next reads go to the primary")
        let committed = try await TestSQL.withConnection(to: database) { connection in
            try await connection.guardedQuery("select last_value from public.fallback_probe", logger: TestSQL.logger)[0].decode(Int64.self)
        }
        #expect(committed == 1)
    }
}
