import Foundation
import Logging
import PostgresNIO
import SMTACore

/// The synthetic tenant data `smta bench tenancy` measures, built with set-based SQL
/// (`generate_series`) in one session of a migrated database:
///
/// - 1,000 organizations, each created by its own owner (so the schema's trigger makes them
///   super_admin), and 9 more members per organization;
/// - `app.smta_bench_items`, protected by `core.enable_tenancy`, with `rows` rows: the first
///   organization holds exactly 10% of them, the rest are spread over the other 999 with a skew
///   (a few large organizations, many small ones) and interleaved, as real inserts would be;
///   an index on `(organization_id, created_at desc)` serves the page query, as an application
///   listing newest first would have (enable_tenancy then adds no index of its own);
/// - three users with 1, 10 and 100 memberships, each including the largest organization.
///
/// `random()` is seeded, so a given size always builds the same distribution.
struct TenancyDataset: Sendable {
    /// A user of the benchmark and the organizations they belong to.
    struct Member: Sendable {
        var id: UUID
        var organizations: [UUID]
    }

    /// The benchmark's table.
    static let table = "app.smta_bench_items"
    /// Organizations created.
    static let organizationCount = 1000
    /// Membership counts of the measured users.
    static let membershipCounts = [1, 10, 100]

    /// Rows in the table.
    let rows: Int
    /// The largest organization (10% of the rows), to which every measured user belongs.
    private(set) var largestOrganization = UUID()
    /// Its number of rows.
    private(set) var largestOrganizationRows = 0
    /// One of its rows, for the primary-key lookup.
    private(set) var lookupRow = UUID()
    /// The measured users, in the order of ``membershipCounts``.
    private(set) var members: [Member] = []

    /// A dataset of `rows` rows, not built yet.
    init(rows: Int) {
        self.rows = rows
    }

    /// Builds the data through `connection` (a superuser or BYPASSRLS role), reporting each step.
    mutating func build(on connection: PostgresConnection, logger: Logger, progress: (String) -> Void) async throws {
        func run(_ sql: String) async throws {
            _ = try await connection.guardedQuery(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
        let organizations = Self.organizationCount
        try await run("select pg_catalog.setseed(0.42)")

        progress("creating \(organizations) organizations and \(organizations * 10) users")
        try await run(
            """
            create temporary table smta_bench_organizations as
            select g as n, pg_catalog.gen_random_uuid() as id, pg_catalog.gen_random_uuid() as owner
            from pg_catalog.generate_series(1, \(organizations)) g
            """)
        try await run(
            """
            insert into core.users_meta (id, email)
            select owner, pg_catalog.format('owner%s@bench.smta.test', n) from smta_bench_organizations
            """)
        try await run(
            """
            insert into core.organizations (id, name, created_by, updated_by)
            select id, 'Bench organization ' || n, owner, owner from smta_bench_organizations order by n
            """)
        try await run(
            """
            create temporary table smta_bench_people as
            select g as n, pg_catalog.gen_random_uuid() as id, 1 + g % \(organizations) as organization_n
            from pg_catalog.generate_series(1, \(organizations * 9)) g
            """)
        try await run(
            """
            insert into core.users_meta (id, email)
            select id, pg_catalog.format('member%s@bench.smta.test', n) from smta_bench_people
            """)
        try await run(
            """
            insert into core.memberships (user_id, organization_id, role_id, is_super_admin)
            select p.id, o.id, (select r.id from core.roles r where r.name = 'team'), false
            from smta_bench_people p join smta_bench_organizations o on o.n = p.organization_n
            """)

        progress("creating the users with \(Self.membershipCounts.map(String.init).joined(separator: ", ")) memberships")
        members = []
        for count in Self.membershipCounts {
            let id = UUID()
            // The largest organization, then count - 1 distinct others (7919 is prime and
            // coprime with 999, so the multiples below never repeat an organization).
            try await run(
                "insert into core.users_meta (id, email) values ('\(id.uuidString.lowercased())', 'measured\(count)@bench.smta.test')")
            try await run(
                """
                insert into core.memberships (user_id, organization_id, role_id, is_super_admin)
                select '\(id.uuidString.lowercased())', o.id, (select r.id from core.roles r where r.name = 'team'), false
                from smta_bench_organizations o
                where o.n = 1 or o.n in (select 2 + (s * 7919) % \(organizations - 1) from pg_catalog.generate_series(1, \(count - 1)) s)
                """)
            let organizationIDs = try await connection.guardedQuery(
                "select organization_id from core.memberships where user_id = \(id) order by organization_id", logger: logger
            ).map { try $0.decode(UUID.self) }
            members.append(Member(id: id, organizations: organizationIDs))
        }

        progress("creating \(Self.table) and inserting \(rows) rows")
        try await run(
            """
            create table \(Self.table) (
                id uuid primary key default pg_catalog.gen_random_uuid(),
                organization_id uuid not null references core.organizations (id),
                title text not null,
                amount integer not null,
                created_at timestamptz not null
            )
            """)
        try await run(
            "create index smta_bench_items_organization_created_at on \(Self.table) (organization_id, created_at desc)")
        // Every tenth row to the largest organization; the others skewed towards low numbers
        // (random()^2), so organization sizes range from tens of thousands of rows to a few.
        try await run(
            """
            insert into \(Self.table) (organization_id, title, amount, created_at)
            select o.id, 'Item ' || s.g, (s.g * 37) % 1000, timestamptz '2025-01-01' + s.g * interval '1 second'
            from (select g, case when g % 10 = 0 then 1
                                 else 2 + pg_catalog.floor((\(organizations - 1) - 0.001) * pg_catalog.random() ^ 2)::int end as n
                  from pg_catalog.generate_series(1, \(rows)) g) s
            join smta_bench_organizations o on o.n = s.n
            """)

        progress("protecting it with core.enable_tenancy and collecting statistics")
        try await run("select core.enable_tenancy('\(Self.table)')")
        try await run("analyze core.memberships")
        try await run("analyze core.organizations")
        try await run("analyze core.users_meta")
        // Index-only scans need the visibility map. VACUUM cannot mark pages all-visible while
        // another session (autovacuum analysing the tables just filled) holds an older snapshot,
        // so it runs again until the table is all-visible, or gives up after 30 tries.
        for _ in 0..<30 {
            try await run("vacuum (analyze) \(Self.table)")
            let visible = try await connection.guardedQuery(
                "select relallvisible >= relpages from pg_catalog.pg_class where oid = \(Self.table)::regclass", logger: logger
            ).first?.decode(Bool.self) ?? false
            if visible { break }
            try await Task.sleep(for: .seconds(1))
        }

        let facts = try await connection.guardedQuery(
            """
            select o.id, (select pg_catalog.count(*)::int8 from \(unescaped: Self.table) i where i.organization_id = o.id),
                   (select i.id from \(unescaped: Self.table) i where i.organization_id = o.id order by i.id limit 1)
            from smta_bench_organizations o where o.n = 1
            """, logger: logger)
        guard let (organization, count, row) = try facts.first?.decode((UUID, Int64, UUID?).self), let row else {
            throw LoadTools.BenchmarkFailure("the dataset has no row in its largest organization (too few --rows?)")
        }
        largestOrganization = organization
        largestOrganizationRows = Int(count)
        lookupRow = row
    }

    /// The tables of schema `app` that hold rows (the benchmark refuses to mix with real data).
    static func applicationData(on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var tables: [String] = []
        for name in try await connection.guardedQuery(
            """
            select pg_catalog.format('%I.%I', n.nspname, c.relname) from pg_catalog.pg_class c
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'app' and c.relkind in ('r', 'p')
            order by 1
            """, logger: logger
        ).map({ try $0.decode(String.self) }) {
            let hasRows = try await connection.guardedQuery(
                PostgresQuery(unsafeSQL: "select exists (select 1 from \(name))"), logger: logger
            ).first?.decode(Bool.self) ?? false
            if hasRows { tables.append(name) }
        }
        return tables
    }
}
