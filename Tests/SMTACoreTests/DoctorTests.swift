import Foundation
import SMTACore
import SMTADev
import SMTAPayload
import SMTASchema
import SMTASupabase
import SMTATestSupport
import Testing

/// `smta doctor`'s inspection: a migrated database passes, and each kind of problem, planted in
/// a database of its own, is found on the right object and nowhere else.
@Suite("Doctor")
struct DoctorTests {
    static let payload = CoreSchema.migrations + PayloadSchema.migrations
    static let supabase = CoreSchema.migrations + SupabaseSchema.migrations

    /// A migrated database with `statements` run in it (as the superuser), and what the doctor
    /// finds there, as (object, kind) pairs.
    static func findings(after statements: [String]) async throws -> [Pair] {
        let url = try await TestCluster.shared.database(migrated: payload)
        for statement in statements {
            try await TestSQL.execute(statement, on: url)
        }
        return try await Doctor().inspect(url).findings.map { Pair(object: $0.object, kind: $0.kind) }
    }

    /// A finding without its message.
    struct Pair: Hashable, CustomStringConvertible {
        var object: String
        var kind: DoctorFinding.Kind
        var description: String { "\(object): \(kind.rawValue)" }
    }

    @Test("a freshly migrated database is clean, and was really inspected", arguments: ["supabase", "payload"])
    func migratedDatabaseIsClean(adapter: String) async throws {
        let url = try await TestCluster.shared.database(migrated: adapter == "supabase" ? Self.supabase : Self.payload)
        let report = try await Doctor().inspect(url)
        #expect(report.findings == [])
        #expect(report.clean)
        #expect(report.inspected.policies >= 20)
        #expect(report.inspected.functions >= 40)
        #expect(report.database == url.description)
    }

    @Test("tables made tenant-safe by enable_tenancy, with and without a unit column, are clean")
    func enableTenancyPasses() async throws {
        let found = try await Self.findings(after: [
            "create table app.projects (id uuid primary key, organization_id uuid not null)",
            "select core.enable_tenancy('app.projects')",
            "create table app.notes (id uuid primary key, org_id uuid not null, unit_id uuid, deleted_at timestamptz)",
            "select core.enable_tenancy('app.notes', 'org_id', 'unit_id')",
        ])
        #expect(found == [])
    }

    @Test("--citus: tables ready for distribution pass; a missing or nullable column, a key and a reference without it are found")
    func citusReadiness() async throws {
        let url = try await TestCluster.shared.database(migrated: Self.payload)
        for statement in [
            // Ready: the column everywhere, in every key, and paired in the reference.
            "create table app.projects (organization_id uuid not null, id uuid not null, primary key (organization_id, id))",
            "create table app.tasks (organization_id uuid not null, id uuid not null, project_id uuid not null, "
                + "primary key (organization_id, id), foreign key (organization_id, project_id) references app.projects (organization_id, id))",
            // Not ready, one problem each.
            "create table app.settings (key text primary key, value text)",
            "create table app.notes (organization_id uuid, id uuid not null, primary key (id))",
            "create table app.comments (organization_id uuid not null, id uuid primary key, task_id uuid, slug text, "
                + "unique (organization_id, slug))",
            "create table app.links (organization_id uuid not null, id uuid not null, note_id uuid references app.notes (id), "
                + "primary key (organization_id, id))",
        ] {
            try await TestSQL.execute(statement, on: url)
        }
        let plain = try await Doctor().inspect(url).findings.filter { $0.kind.rawValue.hasPrefix("citus") }
        #expect(plain.isEmpty, "only with --citus")
        let found = Set(try await Doctor(citus: CitusReadiness()).inspect(url).findings
            .filter { $0.kind.rawValue.hasPrefix("citus") }.map { Pair(object: $0.object, kind: $0.kind) })
        #expect(found == [
            Pair(object: "app.settings", kind: .citusNoDistributionColumn),
            Pair(object: "app.notes.organization_id", kind: .citusNullableDistributionColumn),
            Pair(object: "app.notes primary key notes_pkey", kind: .citusUniqueWithoutDistributionColumn),
            Pair(object: "app.comments primary key comments_pkey", kind: .citusUniqueWithoutDistributionColumn),
            Pair(object: "app.links foreign key links_note_id_fkey", kind: .citusForeignKeyWithoutDistributionColumn),
        ])
        let named = try await Doctor(citus: CitusReadiness(column: "tenant")).inspect(url).findings
            .filter { $0.kind == .citusNoDistributionColumn }.map(\.object)
        #expect(named.count == 6, "another distribution column: no table has it")
    }

    @Test("an app table without row-level security is found")
    func rowLevelSecurityDisabled() async throws {
        let found = try await Self.findings(after: [
            "create table app.orders (id uuid primary key, organization_id uuid not null)",
            "create index on app.orders (organization_id)",
        ])
        #expect(found.contains(Pair(object: "app.orders", kind: .rowLevelSecurityDisabled)))
        #expect(!found.contains(Pair(object: "app.orders", kind: .rowLevelSecurityNotForced)))
    }

    @Test("an app table whose row-level security is not forced is found")
    func rowLevelSecurityNotForced() async throws {
        let found = try await Self.findings(after: [
            "create table app.orders (id uuid primary key, organization_id uuid not null)",
            "create index on app.orders (organization_id)",
            "alter table app.orders enable row level security",
            """
            create policy "members read orders" on app.orders for select to app_user
                using (organization_id = any ((select core.current_user_org_ids())::uuid[]))
            """,
        ])
        #expect(found == [Pair(object: "app.orders", kind: .rowLevelSecurityNotForced)])
    }

    @Test("an app table none of whose policies checks membership is found")
    func noMembershipPolicy() async throws {
        let found = try await Self.findings(after: [
            "create table app.orders (id uuid primary key, organization_id uuid not null)",
            "create index on app.orders (organization_id)",
            "alter table app.orders enable row level security",
            "alter table app.orders force row level security",
            #"create policy "everyone reads orders" on app.orders for select to authenticated using (true)"#,
            // Membership checked for the service role only: not a policy for end users.
            """
            create policy "service reads its orders" on app.orders for select to service_role
                using (organization_id = any ((select core.current_user_org_ids())::uuid[]))
            """,
        ])
        #expect(found == [Pair(object: "app.orders", kind: .noMembershipPolicy)])
    }

    @Test("a membership policy reading core.memberships directly counts, and its tenant column is known")
    func membershipReadDirectly() async throws {
        let found = try await Self.findings(after: [
            "create table app.orders (id uuid primary key, tenant uuid not null)",
            "alter table app.orders enable row level security",
            "alter table app.orders force row level security",
            """
            create policy "members read orders" on app.orders for select to app_user
                using (exists (select 1 from core.memberships m
                               where m.organization_id = orders.tenant and m.user_id = core.get_current_user_id()
                                 and not m.is_deleted))
            """,
        ])
        #expect(found == [Pair(object: "app.orders.tenant", kind: .tenantColumnNotIndexed)])
    }

    @Test("a tenant column without an index is found")
    func tenantColumnNotIndexed() async throws {
        let found = try await Self.findings(after: [
            "create table app.orders (id uuid primary key, org uuid not null)",
            "select core.enable_tenancy('app.orders', 'org')",
            "drop index app.orders_org_idx",
            // A partial index does not serve every query.
            "create index orders_open_by_org on app.orders (org) where id is not null",
        ])
        #expect(found == [Pair(object: "app.orders.org", kind: .tenantColumnNotIndexed)])
    }

    @Test("a policy calling a membership helper once per row is found; a constant argument is not")
    func perRowMembershipHelper() async throws {
        let found = try await Self.findings(after: [
            "create table app.orders (id uuid primary key, organization_id uuid not null, unit_id uuid)",
            "create index on app.orders (organization_id)",
            "create index on app.orders (unit_id)",
            "alter table app.orders enable row level security",
            "alter table app.orders force row level security",
            #"create policy "upstream style" on app.orders for select to app_user using (core.is_org_member(organization_id))"#,
            #"create policy "wrapped in a sub-select" on app.orders for insert to app_user with check ((select core.is_unit_member(unit_id)))"#,
            """
            create policy "one fixed organization" on app.orders for update to app_user
                using (core.is_org_member('00000000-0000-0000-0000-000000000001'::uuid))
            """,
        ])
        #expect(Set(found) == [
            Pair(object: #"policy "upstream style" on app.orders"#, kind: .perRowMembershipHelper),
            Pair(object: #"policy "wrapped in a sub-select" on app.orders"#, kind: .perRowMembershipHelper),
        ])
    }

    @Test("a SECURITY DEFINER function without a pinned search_path is found")
    func securityDefinerWithoutSearchPath() async throws {
        let found = try await Self.findings(after: [
            "create function app.order_total(p_id uuid) returns int language sql security definer as 'select 1'",
            "create function app.pinned_total(p_id uuid) returns int language sql security definer set search_path = '' as 'select 1'",
            "create function app.invoker_total(p_id uuid) returns int language sql as 'select 1'",
        ])
        #expect(found == [Pair(object: "function app.order_total(p_id uuid)", kind: .securityDefinerWithoutSearchPath)])
    }

    @Test("an API function anon may execute is found; one granted to app_user only is not")
    func anonExecutesAPIFunction() async throws {
        let found = try await Self.findings(after: [
            "create function public.open_report() returns int language sql set search_path = '' as 'select 1'",
            "create function public.member_report() returns int language sql set search_path = '' as 'select 1'",
            "revoke all on function public.member_report() from public, anon",
            "grant execute on function public.member_report() to app_user",
        ])
        #expect(found == [Pair(object: "function public.open_report()", kind: .anonExecutesAPIFunction)])
    }

    @Test("an extension installed in public is found")
    func extensionInPublic() async throws {
        let found = try await Self.findings(after: ["create extension citext schema public"])
        #expect(found == [Pair(object: "extension citext", kind: .extensionInPublic)])
    }

    @Test("a database that cannot be reached is an error, never a clean report")
    func unreachableDatabaseThrows() async throws {
        let url = try DatabaseURL("postgres://postgres@127.0.0.1:\(try LocalCluster.freePort())/nowhere?sslmode=disable")
        await #expect(throws: DatabaseError.self) {
            _ = try await Doctor().inspect(url)
        }
    }
}
