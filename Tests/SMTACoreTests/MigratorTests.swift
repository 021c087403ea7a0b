import Foundation
import PostgresNIO
import SMTACore
import SMTADev
import SMTAPayload
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

@Suite("Migrator")
struct MigratorTests {
    let payload = CoreSchema.migrations + PayloadSchema.migrations
    let supabase = CoreSchema.migrations + SupabaseSchema.migrations

    @Test("an empty database gets every migration once; a second run applies nothing")
    func secondRunIsANoOp() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let first = try await Migrator(migrations: payload).migrate(url)
        #expect(first.map(\.id) == payload.map(\.id))
        let second = try await Migrator(migrations: payload).migrate(url)
        #expect(second.isEmpty)
        #expect(try await recordedIDs(url) == Set(payload.map(\.id)))
        let status = try await Migrator(migrations: payload).status(of: url)
        #expect(status.pending.isEmpty && status.changed.isEmpty && status.unknown.isEmpty)
    }

    @Test("both adapters migrate an empty database", arguments: ["supabase", "payload"])
    func eachAdapterMigrates(adapter: String) async throws {
        let migrations = adapter == "supabase" ? supabase : payload
        let url = try await TestCluster.shared.emptyDatabase()
        try await Migrator(migrations: migrations).migrate(url)
        #expect(try await recordedIDs(url) == Set(migrations.map(\.id)))
    }

    @Test("another app's tables, functions and a pgcrypto in public survive, untouched")
    func besideAnotherApp() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        for statement in [
            "create extension pgcrypto schema public",
            "create table public.customers (id serial primary key, name text)",
            "insert into public.customers (name) values ('Ada'), ('Grace')",
            "create function public.customer_count() returns bigint language sql as 'select count(*) from public.customers'",
            "create schema app",
            "create table app.orders (id int primary key, organization_id uuid)",
        ] {
            try await TestSQL.execute(statement, on: url)
        }
        try await Migrator(migrations: payload).migrate(url)
        let (names, count) = try await TestSQL.withConnection(to: url) { connection in
            var names: [String] = []
            for try await name in try await connection.query(
                "select name from public.customers order by id", logger: TestSQL.logger
            ).decode(String.self) { names.append(name) }
            var count = 0
            for try await value in try await connection.query(
                "select public.customer_count()::int", logger: TestSQL.logger
            ).decode(Int.self) { count = value }
            return (names, count)
        }
        #expect(names == ["Ada", "Grace"])
        #expect(count == 2)
        #expect(try await recordedIDs(url) == Set(payload.map(\.id)))
    }

    @Test("an applied migration whose SQL changed stops the run before anything is applied")
    func changedChecksumStops() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let original = Migration(source: "t", name: "0001_a", sql: "create table public.a (id int)")
        try await Migrator(migrations: [original]).migrate(url)
        let edited = Migration(source: "t", name: "0001_a", sql: "create table public.a (id bigint)")
        let next = Migration(source: "t", name: "0002_b", sql: "create table public.b (id int)")
        await #expect {
            try await Migrator(migrations: [edited, next]).migrate(url)
        } throws: { error in
            guard case .checksumMismatch(let id) = error as? MigrationError else { return false }
            return id == "t/0001_a"
        }
        #expect(try await tableExists("public.b", url) == false)
    }

    @Test("a failing migration is rolled back whole, names its line, and keeps earlier ones")
    func failureRollsBack() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        let good = Migration(source: "t", name: "0001_good", sql: "create table public.good (id int);")
        let bad = Migration(
            source: "t", name: "0002_bad",
            sql: "create table public.half (id int);\n\ncreate tabel public.typo (id int);\n")
        await #expect {
            try await Migrator(migrations: [good, bad]).migrate(url)
        } throws: { error in
            guard case .migrationFailed(let id, let line, let failure) = error as? MigrationError else { return false }
            return id == "t/0002_bad" && line == 3 && failure.sqlState == "42601"
        }
        #expect(try await tableExists("public.good", url))
        #expect(try await tableExists("public.half", url) == false)
        #expect(try await recordedIDs(url) == ["t/0001_good"])

        let fixed = Migration(source: "t", name: "0002_bad", sql: "create table public.half (id int);")
        #expect(try await Migrator(migrations: [good, fixed]).migrate(url).map(\.id) == ["t/0002_bad"])
    }

    @Test("two concurrent runs never apply a migration twice: between them, every migration once")
    func concurrentRuns() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        async let first = Migrator(migrations: payload).migrate(url)
        async let second = Migrator(migrations: payload).migrate(url)
        let (a, b) = try await (first, second)
        #expect(a.count + b.count == payload.count)
        #expect(Set(a.map(\.id)).isDisjoint(with: b.map(\.id)))
        #expect(try await recordedIDs(url) == Set(payload.map(\.id)))
    }

    @Test("a database migrated for one adapter refuses the other")
    func otherAdapterRefused() async throws {
        let url = try await TestCluster.shared.database(migrated: payload)
        await #expect {
            try await Migrator(migrations: supabase).migrate(url)
        } throws: { error in
            guard case .otherAdapter(let applied, let requested) = error as? MigrationError else { return false }
            return applied == "payload" && requested == "supabase"
        }
    }

    @Test("an unreachable database is one clear error naming where")
    func unreachable() async throws {
        let port = try LocalCluster.freePort()
        let url = try DatabaseURL("postgres://postgres@127.0.0.1:\(port)/smta?sslmode=disable")
        await #expect {
            try await Migrator(migrations: payload).migrate(url)
        } throws: { error in
            guard case .unreachable = error as? MigrationError else { return false }
            return "\(error)".contains("127.0.0.1:\(port)") && !"\(error)".contains("\n")
        }
    }

    @Test("a role that can neither bypass RLS nor is superuser is refused before any change")
    func insufficientPrivileges() async throws {
        let url = try await TestCluster.shared.emptyDatabase()
        try await TestSQL.execute(
            "do $$ begin if not exists (select from pg_roles where rolname = 'plain_owner') then create role plain_owner login; end if; end $$",
            on: url)
        try await TestSQL.execute("grant create on database \(url.database) to plain_owner", on: url)
        var plain = url
        plain.username = "plain_owner"
        await #expect {
            try await Migrator(migrations: payload).migrate(plain)
        } throws: { error in
            guard case .insufficientPrivileges(let role) = error as? MigrationError else { return false }
            return role == "plain_owner"
        }
        #expect(try await tableExists("smta.schema_migrations", url) == false)
    }

    // MARK: Helpers

    func recordedIDs(_ url: DatabaseURL) async throws -> Set<String> {
        try await TestSQL.withConnection(to: url) { connection in
            var ids = Set<String>()
            for try await id in try await connection.query(
                "select id from smta.schema_migrations", logger: TestSQL.logger
            ).decode(String.self) { ids.insert(id) }
            return ids
        }
    }

    private func tableExists(_ name: String, _ url: DatabaseURL) async throws -> Bool {
        try await TestSQL.withConnection(to: url) { connection in
            for try await exists in try await connection.query(
                "select to_regclass(\(name)) is not null", logger: TestSQL.logger
            ).decode(Bool.self) { return exists }
            return false
        }
    }
}
