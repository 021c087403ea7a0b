import Logging
import PostgresNIO

/// Inspects a database for the mistakes that leave tenant data open or slow, reading only the
/// system catalogs (it changes nothing):
///
/// - tables of schema `app` without row-level security, without FORCE, without a policy for the
///   runtime roles (`app_user`, `authenticated`, PUBLIC) that checks membership, or without an
///   index leading with their tenant column (the column their policies compare with the caller's
///   memberships; `organization_id` for a table with no such policy);
/// - policies, in any schema, that call a membership helper (`core.is_org_member(…)` & co.)
///   with a row's column, so once per row;
/// - `SECURITY DEFINER` functions without a pinned `search_path`, outside PostgreSQL's own
///   schemas and those a platform manages (``platformSchemas``), extension members excepted;
/// - functions of the API schema `public` that `anon` may execute, except
///   `public.get_invitation_details(text)`, the invitation landing page SMTA opens to `anon`;
/// - extensions installed in schema `public`;
/// - with ``CitusReadiness`` (`--citus`), what would keep the app tables from being distributed.
///
/// A policy "checks membership" when it calls one of SMTA's membership helpers or reads
/// `core.memberships` / `core.unit_memberships` (PostgreSQL records both as dependencies).
public struct Doctor: Sendable {
    /// Schemas whose functions belong to the platform (Supabase's, SMTA's extension schema), not
    /// to the application: the `search_path` check leaves them out.
    public static let platformSchemas = [
        "information_schema", "auth", "extensions", "storage", "realtime", "_realtime", "graphql",
        "graphql_public", "vault", "pgsodium", "pgsodium_masks", "supabase_functions",
        "supabase_migrations", "net", "cron", "pgbouncer", "_analytics",
    ]

    /// SMTA's membership helpers that take the id to check, so that a policy passing a column
    /// calls them once per row.
    static let perRowHelpers = [
        "is_super_admin", "is_org_member", "is_unit_member", "is_org_super_admin_for_unit",
        "is_org_member_for_unit", "get_org_role", "get_org_id_for_unit", "has_org_role",
        "has_unit_role", "shares_organization", "unit_membership_role_for",
    ]

    /// SMTA's once-per-statement helpers: the caller's ids as arrays.
    static let statementHelpers = [
        "current_user_org_ids", "current_user_unit_ids", "current_user_managed_org_ids",
        "current_user_super_admin_org_ids",
    ]

    private let logger: Logger
    /// With `smta doctor --citus`: the distribution checks too.
    private let citus: CitusReadiness?

    /// Creates a doctor; with `citus`, it also checks the app tables for distribution by Citus.
    public init(citus: CitusReadiness? = nil, logger: Logger = Logger(label: "smta.doctor")) {
        self.citus = citus
        self.logger = logger
    }

    /// Connects to `url` and inspects the database.
    /// - Throws: ``DatabaseError`` when the database cannot be reached or read.
    public func inspect(_ url: DatabaseURL) async throws -> DoctorReport {
        do {
            return try await url.withConnection(logger: logger) { connection in
                try await inspect(on: connection, database: url.description)
            }
        } catch {
            throw DatabaseError(error)
        }
    }

    /// Inspects the database `connection` is connected to; `database` names it in the report.
    public func inspect(on connection: PostgresConnection, database: String) async throws -> DoctorReport {
        let helpers = try await membershipHelpers(on: connection)
        let membershipTables = Set(
            try await values(
                """
                select c.oid::int8 from pg_catalog.pg_class c
                join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'core' and c.relname in ('memberships', 'unit_memberships')
                """, as: Int64.self, on: connection))
        let policies = try await policies(on: connection)
        let tables = try await appTables(on: connection)

        var findings: [DoctorFinding] = []
        for table in tables {
            findings += check(table, policies: policies.filter { $0.table == table.oid }, helpers: helpers, membershipTables: membershipTables)
        }
        for policy in policies {
            findings += check(policy, helpers: helpers)
        }
        findings += try await securityDefinerFindings(on: connection)
        findings += try await anonFindings(on: connection)
        let publicExtensions = try await values(
            """
            select e.extname::text from pg_catalog.pg_extension e
            join pg_catalog.pg_namespace n on n.oid = e.extnamespace
            where n.nspname = 'public' order by 1
            """, as: String.self, on: connection)
        if let citus {
            findings += try await citus.findings(on: connection, logger: logger)
        }
        findings += publicExtensions.map { name in
            DoctorFinding(
                object: "extension \(name)", kind: .extensionInPublic,
                message: "installed in schema public, where every caller's search_path looks first: its objects can be shadowed or shadow yours (keep extensions in schema extensions: ALTER EXTENSION \(name) SET SCHEMA extensions)")
        }

        let counts = try await rows(
            """
            select (select count(*)::int8 from pg_catalog.pg_proc p
                    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
                    where n.nspname not like 'pg\\_%' and n.nspname <> all (\(Self.platformSchemas))),
                   (select count(*)::int8 from pg_catalog.pg_extension)
            """, as: (Int64, Int64).self, on: connection)
        let inspected = DoctorReport.Inspected(
            appTables: tables.count, policies: policies.count,
            functions: Int(counts.first?.0 ?? 0), extensions: Int(counts.first?.1 ?? 0))
        return DoctorReport(database: database, inspected: inspected, findings: findings)
    }

    // MARK: Tables

    /// An `app` table as the checks need it.
    private struct AppTable {
        var oid: Int64
        var name: String
        var rowSecurity: Bool
        var forced: Bool
        /// Attribute number -> column name.
        var columns: [Int: String]
        /// Attribute numbers that a plain btree index leads with.
        var indexedFirst: Set<Int>
    }

    private func appTables(on connection: PostgresConnection) async throws -> [AppTable] {
        try await rows(
            """
            select c.oid::int8, c.relname::text, c.relrowsecurity, c.relforcerowsecurity,
                   array(select a.attnum::int4 from pg_catalog.pg_attribute a
                         where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum),
                   array(select a.attname::text from pg_catalog.pg_attribute a
                         where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum),
                   array(select i.indkey[0]::int4 from pg_catalog.pg_index i
                         join pg_catalog.pg_class ic on ic.oid = i.indexrelid
                         join pg_catalog.pg_am am on am.oid = ic.relam
                         where i.indrelid = c.oid and i.indpred is null and am.amname = 'btree')
            from pg_catalog.pg_class c
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'app' and c.relkind in ('r', 'p') and not c.relispartition
            order by c.relname
            """,
            as: (Int64, String, Bool, Bool, [Int32], [String], [Int32]).self, on: connection
        ).map { oid, name, rowSecurity, forced, numbers, names, indexed in
            AppTable(
                oid: oid, name: name, rowSecurity: rowSecurity, forced: forced,
                columns: Dictionary(uniqueKeysWithValues: zip(numbers.map(Int.init), names)),
                indexedFirst: Set(indexed.map(Int.init)))
        }
    }

    private func check(_ table: AppTable, policies: [Policy], helpers: Helpers, membershipTables: Set<Int64>) -> [DoctorFinding] {
        let name = "app." + table.name
        var findings: [DoctorFinding] = []
        if !table.rowSecurity {
            findings.append(DoctorFinding(
                object: name, kind: .rowLevelSecurityDisabled,
                message: "row-level security is not enabled: every role with a privilege on the table reads all its rows (select core.enable_tenancy('\(name)'))"))
        } else if !table.forced {
            findings.append(DoctorFinding(
                object: name, kind: .rowLevelSecurityNotForced,
                message: "row-level security is not forced: the table's owner bypasses its policies (ALTER TABLE \(name) FORCE ROW LEVEL SECURITY, or core.enable_tenancy)"))
        }

        let membershipPolicies = policies.filter { policy in
            policy.forRuntimeRoles
                && (!policy.functions.isDisjoint(with: helpers.all) || !policy.relations.isDisjoint(with: membershipTables))
        }
        if membershipPolicies.isEmpty {
            findings.append(DoctorFinding(
                object: name, kind: .noMembershipPolicy,
                message: "no policy for the runtime roles checks membership, so members and outsiders are not told apart (select core.enable_tenancy('\(name)'), or compare the tenant column with (select core.current_user_org_ids()))"))
        }

        var tenantColumns: Set<Int> = []
        for policy in membershipPolicies {
            for expression in policy.expressions {
                tenantColumns.formUnion(
                    expression.tenantColumns(functions: helpers.all, tables: membershipTables, table: table.oid))
            }
        }
        if tenantColumns.isEmpty, let organization = table.columns.first(where: { $0.value == "organization_id" })?.key {
            tenantColumns = [organization]
        }
        for column in tenantColumns.sorted() where !table.indexedFirst.contains(column) {
            let columnName = table.columns[column] ?? "column \(column)"
            findings.append(DoctorFinding(
                object: "\(name).\(columnName)", kind: .tenantColumnNotIndexed,
                message: "no index leads with tenant column \(columnName), so every gated query reads the whole table (CREATE INDEX ON \(name) (\(columnName)))"))
        }
        return findings
    }

    // MARK: Policies

    /// A row-level security policy as the checks need it.
    private struct Policy {
        var table: Int64
        var object: String
        /// Whether it applies to PUBLIC, app_user or authenticated.
        var forRuntimeRoles: Bool
        /// Functions and relations its expressions depend on.
        var functions: Set<Int64>
        var relations: Set<Int64>
        /// USING and WITH CHECK, as present.
        var expressions: [PolicyExpression]
    }

    private func policies(on connection: PostgresConnection) async throws -> [Policy] {
        try await rows(
            """
            select c.oid::int8, pg_catalog.format('policy %I on %I.%I', p.polname, n.nspname, c.relname),
                   p.polroles && (array[0]::oid[] || array(select r.oid from pg_catalog.pg_roles r
                                                           where r.rolname in ('app_user', 'authenticated'))),
                   array(select d.refobjid::int8 from pg_catalog.pg_depend d
                         where d.classid = 'pg_catalog.pg_policy'::regclass and d.objid = p.oid
                           and d.refclassid = 'pg_catalog.pg_proc'::regclass),
                   array(select d.refobjid::int8 from pg_catalog.pg_depend d
                         where d.classid = 'pg_catalog.pg_policy'::regclass and d.objid = p.oid
                           and d.refclassid = 'pg_catalog.pg_class'::regclass),
                   p.polqual::text, p.polwithcheck::text
            from pg_catalog.pg_policy p
            join pg_catalog.pg_class c on c.oid = p.polrelid
            join pg_catalog.pg_namespace n on n.oid = c.relnamespace
            order by n.nspname, c.relname, p.polname
            """,
            as: (Int64, String, Bool, [Int64], [Int64], String?, String?).self, on: connection
        ).map { table, object, forRuntimeRoles, functions, relations, using, check in
            Policy(
                table: table, object: object, forRuntimeRoles: forRuntimeRoles,
                functions: Set(functions), relations: Set(relations),
                expressions: try [using, check].compactMap { try $0.map(PolicyExpression.init(parsing:)) })
        }
    }

    private func check(_ policy: Policy, helpers: Helpers) -> [DoctorFinding] {
        var calls: Set<Int64> = []
        for expression in policy.expressions {
            calls.formUnion(expression.perRowCalls(of: helpers.perRow))
        }
        return calls.compactMap { helpers.names[$0] }.sorted().map { helper in
            DoctorFinding(
                object: policy.object, kind: .perRowMembershipHelper,
                message: "calls \(helper) with a row's column, so once per row: compare the column with the caller's ids, computed once per statement, instead: organization_id = any ((select core.current_user_org_ids())::uuid[]), unit_id = any ((select core.current_user_unit_ids())::uuid[])")
        }
    }

    // MARK: Functions and extensions

    /// SMTA's membership helpers present in the database, by object id.
    private struct Helpers {
        var perRow: Set<Int64>
        var all: Set<Int64>
        var names: [Int64: String]
    }

    private func membershipHelpers(on connection: PostgresConnection) async throws -> Helpers {
        var helpers = Helpers(perRow: [], all: [], names: [:])
        for (oid, name) in try await rows(
            """
            select p.oid::int8, p.proname::text from pg_catalog.pg_proc p
            join pg_catalog.pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'core' and p.proname = any (\(Self.perRowHelpers + Self.statementHelpers))
            """, as: (Int64, String).self, on: connection)
        {
            helpers.all.insert(oid)
            helpers.names[oid] = "core." + name
            if Self.perRowHelpers.contains(name) { helpers.perRow.insert(oid) }
        }
        return helpers
    }

    private func securityDefinerFindings(on connection: PostgresConnection) async throws -> [DoctorFinding] {
        try await values(
            """
            select pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid))
            from pg_catalog.pg_proc p
            join pg_catalog.pg_namespace n on n.oid = p.pronamespace
            where p.prosecdef
              and n.nspname not like 'pg\\_%' and n.nspname <> all (\(Self.platformSchemas))
              and not exists (select 1 from pg_catalog.unnest(coalesce(p.proconfig, '{}')) s (setting)
                              where s.setting like 'search\\_path=%')
              and not exists (select 1 from pg_catalog.pg_depend d
                              where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
            order by 1
            """, as: String.self, on: connection
        ).map { function in
            DoctorFinding(
                object: "function \(function)", kind: .securityDefinerWithoutSearchPath,
                message: "SECURITY DEFINER without a pinned search_path: objects of a caller's schemas can stand in for the names it resolves with its owner's rights (ALTER FUNCTION \(function) SET search_path = '', and qualify every name)")
        }
    }

    private func anonFindings(on connection: PostgresConnection) async throws -> [DoctorFinding] {
        try await values(
            """
            select pg_catalog.format('%I.%I(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid))
            from pg_catalog.pg_proc p
            join pg_catalog.pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public'
              and case when pg_catalog.to_regrole('anon') is null then false
                       else pg_catalog.has_function_privilege('anon', p.oid, 'EXECUTE') end
              and p.oid is distinct from pg_catalog.to_regprocedure('public.get_invitation_details(text)')::oid
              and not exists (select 1 from pg_catalog.pg_depend d
                              where d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
            order by 1
            """, as: String.self, on: connection
        ).map { function in
            DoctorFinding(
                object: "function \(function)", kind: .anonExecutesAPIFunction,
                message: "anon, any request without a signed-in user, may execute this API function (REVOKE EXECUTE ON FUNCTION \(function) FROM PUBLIC, anon; then GRANT it to app_user)")
        }
    }

    // MARK: Querying

    private func values<Value: PostgresDecodable>(
        _ query: PostgresQuery, as type: Value.Type, on connection: PostgresConnection
    ) async throws -> [Value] {
        try await connection.guardedQuery(query, logger: logger).map { try $0.decode(Value.self) }
    }

    private func rows<each Column: PostgresDecodable>(
        _ query: PostgresQuery, as type: (repeat each Column).Type, on connection: PostgresConnection
    ) async throws -> [(repeat each Column)] {
        try await connection.guardedQuery(query, logger: logger).map { try $0.decode(type) }
    }
}
