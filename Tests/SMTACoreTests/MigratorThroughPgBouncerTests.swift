import Foundation
import PostgresNIO
import SMTACore
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

/// `smta migrate` through PgBouncer 1.18 in transaction mode, which keeps a server session
/// after its client leaves: nothing the migrator locks may outlive its transactions there.
@Suite("Migrator through PgBouncer in transaction mode")
struct MigratorThroughPgBouncerTests {
    let migrations = CoreSchema.migrations + SupabaseSchema.migrations

    @Test("a run leaves no advisory lock on a pooled server session, and a second run through another session finishes")
    func runsInARow() async throws {
        let direct = try await TestCluster.shared.emptyDatabase()
        let pooled = try await TestPgBouncer.shared.url(for: direct, poolSize: 2)
        let first = try await Migrator(migrations: migrations).migrate(pooled)
        #expect(first.map(\.id) == migrations.map(\.id))
        // A session-level lock would still be held by the server session the run used last.
        try #require(try await advisoryLocks(direct) == 0)
        // PgBouncer hands out its most recently used server session first: keep that one busy
        // so that the second run gets the other.
        let second = try await TestSQL.withConnection(to: pooled) { holder in
            _ = try await holder.query("begin", logger: TestSQL.logger).collect()
            _ = try await holder.query("select 1", logger: TestSQL.logger).collect()
            let second = try await Migrator(migrations: migrations).migrate(pooled)
            _ = try await holder.query("rollback", logger: TestSQL.logger).collect()
            return second
        }
        #expect(second.isEmpty)
        #expect(try await MigratorTests().recordedIDs(direct) == Set(migrations.map(\.id)))
        #expect(try await advisoryLocks(direct) == 0)
    }

    @Test("two concurrent runs through PgBouncer apply every migration exactly once between them")
    func concurrentRuns() async throws {
        let direct = try await TestCluster.shared.emptyDatabase()
        let pooled = try await TestPgBouncer.shared.url(for: direct, poolSize: 2)
        async let first = Migrator(migrations: migrations).migrate(pooled)
        async let second = Migrator(migrations: migrations).migrate(pooled)
        let (a, b) = try await (first, second)
        #expect(a.count + b.count == migrations.count)
        #expect(Set(a.map(\.id)).isDisjoint(with: b.map(\.id)))
        #expect(try await MigratorTests().recordedIDs(direct) == Set(migrations.map(\.id)))
        #expect(try await advisoryLocks(direct) == 0)
    }

    /// Advisory locks held in `url`'s database, by any session.
    private func advisoryLocks(_ url: DatabaseURL) async throws -> Int {
        try await TestSQL.withConnection(to: url) { connection in
            let rows = try await connection.query(
                """
                select count(*)::int from pg_catalog.pg_locks
                where locktype = 'advisory' and database = (select oid from pg_catalog.pg_database where datname = current_database())
                """,
                logger: TestSQL.logger
            ).collect()
            return try rows[0].decode(Int.self)
        }
    }
}
