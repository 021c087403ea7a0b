-- 0030_tenancy: one call makes an application table tenant-safe, one call undoes it.
--
--     select core.enable_tenancy('app.projects');                       -- organization_id
--     select core.enable_tenancy('app.notes', 'org_id', 'unit_id');     -- org + unit scoped
--     select core.disable_tenancy('app.projects');
--
-- What enable_tenancy(table, org column, unit column, audit) leaves in place, and nothing else:
--   * row-level security enabled AND forced on the table;
--   * policies for app_user (which authenticated holds), all named "smta tenancy: …" so that
--     disable_tenancy finds exactly its own, each commented with the columns it was built for:
--       SELECT  members see their organizations' rows
--       INSERT  members add rows to their organizations         (WITH CHECK)
--       UPDATE  members update their organizations' rows        (USING + WITH CHECK)
--       DELETE  members delete their organizations' rows        (only without soft delete)
--     WITH CHECK means no row can be written into, or moved to, an organization the caller is
--     not a live member of (42501, "new row violates row-level security policy");
--   * with a unit column, the unit-scoped variant of the same four policies: a row whose unit
--     is null belongs to the whole organization; a row with a unit is seen and written only by
--     members of that unit (directly or through a unit above it) and by the organization's
--     super_admin and managers, who reach every unit (as everywhere in SMTA). A row's unit must
--     be a live unit of the row's organization;
--   * a btree index leading with the organization column (and one leading with the unit column)
--     when the table has none: the policy's "column = any (…)" is then an index condition;
--   * privileges for app_user: SELECT, INSERT, UPDATE, and DELETE only without soft delete;
--     USAGE on the sequences of the table's serial columns. The privileges that bypass
--     row-level security (TRUNCATE, REFERENCES, TRIGGER) are revoked from app_user,
--     authenticated, anon and PUBLIC;
--   * with p_audit, the trigger smta_tenancy_audit running core.audit_row_change(org, unit):
--     every insert, update and delete is logged in core.audit_logs, in the same transaction,
--     with the row's organization and the actor (skipped when the table already has its own
--     trigger calling core.audit_row_change).
--
-- Soft delete. A table with a deleted_at or an is_deleted column is soft-deleted: it gets no
-- DELETE policy and app_user loses DELETE on it (a DELETE then fails with 42501 instead of
-- silently matching nothing). Soft-deleted rows stay visible to members: the policies answer
-- "is the caller a member of this row's organization", nothing more, so that the application
-- can soft-delete and restore rows with plain UPDATEs (PostgreSQL checks an updated row against
-- the SELECT policy too: a policy hiding deleted rows would forbid soft-deleting them). Filter
-- deleted rows in the application's queries or views.
--
-- Which tables. Ordinary and partitioned tables in the application's schemas: app, or any
-- schema of the application's own. SMTA's schemas (core, platform, utils, extensions, smta),
-- public (functions only, by convention), auth (Supabase's) and PostgreSQL's own schemas are
-- refused. For a partitioned table the policies govern queries through the parent; PostgreSQL
-- applies a partition's own policies when a partition is queried directly.
--
-- Idempotent and declarative: a call leaves the table exactly as its arguments describe. A
-- second identical call changes nothing (the same policies, trigger and indexes, not even
-- recreated); a call with other arguments replaces the tenancy policies and trigger.
--
-- Both functions are SECURITY DEFINER so that the operator (app_admin, e.g. service_role) can
-- run them on tables owned by the migrating role; only app_admin and that owner may execute
-- them, never app_user, authenticated or anon.
--
-- The file first makes the gate helpers of 0003 cheaper per statement (same results), since
-- their fixed cost is what a gated query pays over one filtered by hand.

-- =============================================================================================
-- The gate helpers, cheaper per statement
-- =============================================================================================
-- Every gated statement evaluates its helpers once (InitPlans, see 0003). That fixed cost is the
-- whole price of the gate on a fast query (a 50-row page read from an index takes about 10 µs),
-- so it is kept as small as it can be (measured with `smta bench tenancy`, BENCHMARKS.md):
--   * PL/pgSQL instead of SQL: PostgreSQL 15 plans the body of a SQL function that cannot be
--     inlined (SECURITY DEFINER) again in every statement, while PL/pgSQL keeps its plan for the
--     session (invalidated by DDL and ANALYZE as usual): about 80 µs -> 15 µs per call for
--     the organization ids, 300 µs -> 25 µs for the (recursive) unit ids;
--   * "the organization is not deleted" as an anti-join against a partial index holding only
--     deleted organizations, instead of a join reading every organization: about 80 -> 30 µs
--     for a caller with 100 memberships.
--   * the caller's id read once into a variable: the cached plan compares with a parameter, so
--     even a sequential scan never calls the identity hook once per row.
-- Same signatures, same results, same liveness rules as 0003 (these bodies supersede its SQL
-- ones; grants are kept by CREATE OR REPLACE). Nothing is cached across statements: STABLE
-- functions read the calling statement's snapshot, so a membership removed or an organization
-- deleted is seen by the next statement.

-- The deleted organizations: usually none or few, so the anti-joins below probe a tiny index.
create index idx_organizations_deleted on core.organizations (id) where is_deleted;

-- core.current_user_org_ids(): ids of the live organizations where the caller has a live
-- membership (empty when nobody is authenticated). Callable by the runtime roles; raises
-- nothing.
create or replace function core.current_user_org_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
begin
    return (
        select coalesce(pg_catalog.array_agg(m.organization_id), '{}')
        from core.memberships m
        where m.user_id = v_me
          and not m.is_deleted
          and not exists (select 1 from core.organizations o where o.id = m.organization_id and o.is_deleted)
    );
end
$$;

-- core.current_user_managed_org_ids(): ids of the live organizations the caller manages (holds
-- the super_admin membership, or a live membership whose role is super_admin or manager).
-- Callable by the runtime roles; raises nothing.
create or replace function core.current_user_managed_org_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
begin
    return (
        select coalesce(pg_catalog.array_agg(m.organization_id), '{}')
        from core.memberships m
        join core.roles r on r.id = m.role_id
        where m.user_id = v_me
          and not m.is_deleted
          and (m.is_super_admin or r.name in ('super_admin', 'manager'))
          and not exists (select 1 from core.organizations o where o.id = m.organization_id and o.is_deleted)
    );
end
$$;

-- core.current_user_super_admin_org_ids(): ids of the live organizations whose super_admin the
-- caller is. Callable by the runtime roles; raises nothing.
create or replace function core.current_user_super_admin_org_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
begin
    return (
        select coalesce(pg_catalog.array_agg(m.organization_id), '{}')
        from core.memberships m
        where m.user_id = v_me
          and m.is_super_admin
          and not m.is_deleted
          and not exists (select 1 from core.organizations o where o.id = m.organization_id and o.is_deleted)
    );
end
$$;

-- core.current_user_unit_ids(): ids of the live units the caller is a member of, directly or
-- by inheritance from a live ancestor unit (0003's rules, the same query). Callable by the
-- runtime roles; raises nothing.
create or replace function core.current_user_unit_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
begin
    return (
        with recursive reach (id) as (
            select u.id
            from core.unit_memberships um
            join core.units u on u.id = um.unit_id
            join core.organizations o on o.id = u.organization_id
            join core.memberships m on m.user_id = um.user_id and m.organization_id = u.organization_id
            where um.user_id = v_me
              and not um.is_deleted
              and not u.is_deleted
              and not o.is_deleted
              and not m.is_deleted
            union
            select c.id
            from core.units c
            join reach r on c.parent_unit_id = r.id
            where not c.is_deleted
        )
        select coalesce(pg_catalog.array_agg(id), '{}') from reach
    );
end
$$;

-- core.tenancy_require_application_table(p_table): refuses a null argument, anything but an
-- ordinary or partitioned table, and tables in SMTA's, Supabase's or PostgreSQL's own schemas
-- (see the header). Internal to enable_tenancy and disable_tenancy, whose rights it runs
-- with; executable by nobody else. Raises 22023.
create or replace function core.tenancy_require_application_table(p_table regclass)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
    v_kind "char";
    v_schema name;
begin
    if p_table is null then
        raise exception 'p_table is required' using errcode = '22023';
    end if;
    select c.relkind, n.nspname into v_kind, v_schema
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.oid = p_table;

    if v_kind is null or v_kind not in ('r', 'p') then
        raise exception '% is not a table', p_table using errcode = '22023';
    end if;
    if v_schema in ('core', 'platform', 'utils', 'extensions', 'smta', 'public', 'auth',
                    'pg_catalog', 'information_schema')
       or v_schema like 'pg\_toast%' or v_schema like 'pg\_temp%' then
        raise exception 'Table % is in schema %, which is not the application''s: tenancy is for application tables (schema app, or one of your own)',
            p_table, v_schema
            using errcode = '22023';
    end if;
end
$$;

revoke all on function core.tenancy_require_application_table(regclass) from public;

-- core.tenancy_uuid_column(p_table, p_column, p_role): the attribute number of p_table's column
-- p_column, which must exist and be of type uuid (or a domain over uuid); p_role ('organization'
-- or 'unit') names it in messages. Internal to enable_tenancy; executable by nobody else.
-- Raises 22023.
create or replace function core.tenancy_uuid_column(p_table regclass, p_column name, p_role text)
returns smallint
language plpgsql
stable
set search_path = ''
as $$
declare
    v_attnum smallint;
    v_type regtype;
begin
    select a.attnum, a.atttypid::regtype into v_attnum, v_type
    from pg_catalog.pg_attribute a
    where a.attrelid = p_table and a.attname = p_column and a.attnum > 0 and not a.attisdropped;

    if v_attnum is null then
        raise exception 'Table % has no column "%" to use as its % column', p_table, p_column, p_role
            using errcode = '22023',
                  hint = 'Name the column: core.enable_tenancy(''app.projects'', p_org_column => ''org_id'').';
    end if;
    if v_type <> 'uuid'::regtype
       and not exists (select 1 from pg_catalog.pg_type t
                       where t.oid = v_type and t.typtype = 'd' and t.typbasetype = 'uuid'::regtype) then
        raise exception 'Column "%" of % is of type %, not uuid: the % column must hold % ids',
            p_column, p_table, v_type, p_role, p_role
            using errcode = '22023';
    end if;
    return v_attnum;
end
$$;

revoke all on function core.tenancy_uuid_column(regclass, name, text) from public;

-- core.tenancy_policies(p_table, p_org_column, p_unit_column): the tenancy policies
-- enable_tenancy creates on p_table: name, command and the USING / WITH CHECK clause, for
-- columns already checked by the caller. Internal to enable_tenancy; executable by nobody
-- else. Raises nothing.
create or replace function core.tenancy_policies(p_table regclass, p_org_column name, p_unit_column name)
returns table (name text, command text, clause text)
language plpgsql
stable
set search_path = ''
as $$
declare
    v_org text := pg_catalog.quote_ident(p_org_column);
    v_unit text := pg_catalog.quote_ident(p_unit_column);
    v_self text := (select pg_catalog.quote_ident(c.relname) from pg_catalog.pg_class c where c.oid = p_table);
    v_visible text;
    v_writable text;
begin
    -- Each (select core.…()) becomes an InitPlan: evaluated once per statement, its array then
    -- compared with the row's column, an index condition on that column. The ::uuid[] casts
    -- make PostgreSQL read "= any ((select …))" as "= any (array)", not "= any (subquery)".
    v_visible := pg_catalog.format('%s = any ((select core.current_user_org_ids())::uuid[])', v_org);
    v_writable := v_visible;
    if p_unit_column is not null then
        v_visible := v_visible || pg_catalog.format(
            ' and (%1$s is null'
            ' or %1$s = any ((select core.current_user_unit_ids())::uuid[])'
            ' or %2$s = any ((select core.current_user_managed_org_ids())::uuid[]))',
            v_unit, v_org);
        -- A row's unit must be a live unit of the row's organization. Only writes pay for this
        -- per-row lookup, made under the caller's own policy on core.units (live units of their
        -- organizations). The table's columns are qualified: inside the sub-select an
        -- unqualified organization_id would be the unit's own.
        v_writable := v_visible || pg_catalog.format(
            ' and (%1$s.%2$s is null or exists (select 1 from core.units tenancy_unit'
            ' where tenancy_unit.id = %1$s.%2$s and tenancy_unit.organization_id = %1$s.%3$s))',
            v_self, v_unit, v_org);
    end if;

    return query values
        ('smta tenancy: members see their organizations'' rows', 'select',
         pg_catalog.format('using (%s)', v_visible)),
        ('smta tenancy: members add rows to their organizations', 'insert',
         pg_catalog.format('with check (%s)', v_writable)),
        ('smta tenancy: members update their organizations'' rows', 'update',
         pg_catalog.format('using (%s) with check (%s)', v_visible, v_writable));
    -- Soft-deleted tables (see the header) get no DELETE policy.
    if not exists (select 1 from pg_catalog.pg_attribute a
                   where a.attrelid = p_table and a.attname in ('deleted_at', 'is_deleted')
                     and a.attnum > 0 and not a.attisdropped) then
        return query values
            ('smta tenancy: members delete their organizations'' rows', 'delete',
             pg_catalog.format('using (%s)', v_visible));
    end if;
end
$$;

revoke all on function core.tenancy_policies(regclass, name, name) from public;

-- core.enable_tenancy(p_table, p_org_column, p_unit_column, p_audit): makes p_table
-- tenant-safe as the header describes; idempotent. Callable by app_admin and the migrating role
-- only. Raises 22023 for a null or non-application table, a missing column, a column that is
-- not uuid, or a unit column equal to the organization column.
create or replace function core.enable_tenancy(
    p_table regclass,
    p_org_column name default 'organization_id',
    p_unit_column name default null,
    p_audit boolean default true
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_org_attnum smallint;
    v_unit_attnum smallint;
    v_label text;
    v_soft_delete boolean;
    v_column record;
    v_policy record;
    v_before oid[];
    v_index regclass;
    v_sequence regclass;
    v_audit_args bytea;
    v_others text;
begin
    perform core.tenancy_require_application_table(p_table);
    if p_org_column is null then
        raise exception 'p_org_column is required: the policies filter on the organization column'
            using errcode = '22023';
    end if;
    if p_unit_column = p_org_column then
        raise exception 'The unit column must differ from the organization column ("%")', p_org_column
            using errcode = '22023';
    end if;
    v_org_attnum := core.tenancy_uuid_column(p_table, p_org_column, 'organization');
    if p_unit_column is not null then
        v_unit_attnum := core.tenancy_uuid_column(p_table, p_unit_column, 'unit');
    end if;

    -- Row-level security, forced (the table's owner is filtered too unless it bypasses RLS).
    -- ALTER TABLE takes the table's strongest lock: only when something changes.
    if not (select c.relrowsecurity from pg_catalog.pg_class c where c.oid = p_table) then
        execute pg_catalog.format('alter table %s enable row level security', p_table);
    end if;
    if not (select c.relforcerowsecurity from pg_catalog.pg_class c where c.oid = p_table) then
        execute pg_catalog.format('alter table %s force row level security', p_table);
    end if;

    -- Policies. The comment records the columns they were built for: when the tenancy policies
    -- present are exactly the wanted ones (names, commands, role, comment) nothing is touched;
    -- otherwise all of them are dropped and created afresh.
    v_label := pg_catalog.format('Created by core.enable_tenancy (organization column %s%s); removed by core.disable_tenancy.',
        p_org_column, coalesce(', unit column ' || p_unit_column, ''));
    if exists (
        select 1
        from core.tenancy_policies(p_table, p_org_column, p_unit_column) wanted
        full join (
            select p.polname::text as name, p.polcmd, p.polroles,
                   pg_catalog.obj_description(p.oid, 'pg_policy') as label
            from pg_catalog.pg_policy p
            where p.polrelid = p_table and pg_catalog.starts_with(p.polname::text, 'smta tenancy: ')
        ) present on present.name = wanted.name
        where wanted.name is null or present.name is null
           or present.polcmd <> case wanted.command when 'select' then 'r' when 'insert' then 'a'
                                                   when 'update' then 'w' else 'd' end
           or present.polroles <> array['app_user'::regrole::oid]
           or present.label is distinct from v_label
    ) then
        for v_policy in
            select p.polname from pg_catalog.pg_policy p
            where p.polrelid = p_table and pg_catalog.starts_with(p.polname::text, 'smta tenancy: ')
        loop
            execute pg_catalog.format('drop policy %I on %s', v_policy.polname, p_table);
        end loop;
        for v_policy in select * from core.tenancy_policies(p_table, p_org_column, p_unit_column) loop
            execute pg_catalog.format('create policy %I on %s for %s to app_user %s',
                                      v_policy.name, p_table, v_policy.command, v_policy.clause);
            execute pg_catalog.format('comment on policy %I on %s is %L', v_policy.name, p_table, v_label);
        end loop;
    end if;

    -- Indexes: one leading with each tenancy column, unless the table has a usable one (btree,
    -- not partial, that column first). Those created here carry a comment disable_tenancy reads.
    for v_column in
        select c.name, c.attnum
        from (values (p_org_column, v_org_attnum), (p_unit_column, v_unit_attnum)) as c (name, attnum)
        where c.name is not null
    loop
        if not exists (
            select 1
            from pg_catalog.pg_index i
            join pg_catalog.pg_class ic on ic.oid = i.indexrelid
            join pg_catalog.pg_am am on am.oid = ic.relam
            where i.indrelid = p_table and i.indkey[0] = v_column.attnum
              and i.indpred is null and am.amname = 'btree'
        ) then
            v_before := array(select i.indexrelid from pg_catalog.pg_index i where i.indrelid = p_table);
            execute pg_catalog.format('create index on %s (%I)', p_table, v_column.name);
            for v_index in
                select i.indexrelid::regclass from pg_catalog.pg_index i
                where i.indrelid = p_table and not i.indexrelid = any (v_before)
            loop
                execute pg_catalog.format('comment on index %s is %L', v_index,
                    'Created by core.enable_tenancy for its policies; removed by core.disable_tenancy.');
            end loop;
        end if;
    end loop;

    -- Privileges: what the policies allow, and nothing that bypasses row-level security.
    v_soft_delete := not exists (
        select 1 from core.tenancy_policies(p_table, p_org_column, p_unit_column) w where w.command = 'delete');
    execute pg_catalog.format('grant usage on schema %I to app_user',
        (select n.nspname from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where c.oid = p_table));
    execute pg_catalog.format('grant select, insert, update on %s to app_user', p_table);
    execute pg_catalog.format('%s delete on %s %s app_user',
        case when v_soft_delete then 'revoke' else 'grant' end, p_table,
        case when v_soft_delete then 'from' else 'to' end);
    execute pg_catalog.format(
        'revoke truncate, references, trigger on %s from public, anon, authenticated, app_user', p_table);
    for v_sequence in
        select d.objid::regclass
        from pg_catalog.pg_depend d
        join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
        where d.classid = 'pg_catalog.pg_class'::regclass and d.refclassid = 'pg_catalog.pg_class'::regclass
          and d.refobjid = p_table and d.deptype = 'a'
    loop
        execute pg_catalog.format('grant usage on sequence %s to app_user', v_sequence);
    end loop;

    -- Audit through smta_tenancy_audit, unless another trigger of the table already calls
    -- core.audit_row_change. tgtype 29 = row-level, AFTER INSERT OR DELETE OR UPDATE.
    v_audit_args := pg_catalog.convert_to(p_org_column, 'UTF8') || '\x00'::bytea
                 || pg_catalog.convert_to(coalesce(p_unit_column, ''), 'UTF8') || '\x00'::bytea;
    if exists (
        select 1 from pg_catalog.pg_trigger t
        where t.tgrelid = p_table and t.tgname = 'smta_tenancy_audit'
          and (not p_audit or t.tgfoid <> 'core.audit_row_change()'::regprocedure
               or t.tgargs <> v_audit_args or t.tgtype <> 29)
    ) then
        execute pg_catalog.format('drop trigger smta_tenancy_audit on %s', p_table);
    end if;
    if p_audit and not exists (
        select 1 from pg_catalog.pg_trigger t
        where t.tgrelid = p_table and t.tgfoid = 'core.audit_row_change()'::regprocedure
    ) then
        execute pg_catalog.format(
            'create trigger smta_tenancy_audit after insert or update or delete on %s '
            'for each row execute function core.audit_row_change(%L, %L)',
            p_table, p_org_column, coalesce(p_unit_column, ''));
    end if;

    -- Permissive policies add up: another one for the same callers (PUBLIC, app_user or
    -- authenticated) allowing more still lets its rows through.
    select pg_catalog.string_agg(pg_catalog.quote_ident(p.polname), ', ' order by p.polname) into v_others
    from pg_catalog.pg_policy p
    where p.polrelid = p_table and p.polpermissive
      and not pg_catalog.starts_with(p.polname::text, 'smta tenancy: ')
      and p.polroles && array[0, 'app_user'::regrole::oid, 'authenticated'::regrole::oid];
    if v_others is not null then
        raise notice 'Table % has other permissive policies for its users (%): permissive policies add up, so the rows they allow stay visible',
            p_table, v_others;
    end if;
end
$$;

-- core.disable_tenancy(p_table): removes what enable_tenancy added: its policies, its audit
-- trigger, the indexes it created, and app_user's privileges on the table and its sequences.
-- Row-level security stays enabled and forced: with no policy left the table is closed to every
-- role that does not bypass RLS, where switching RLS off could open it to any role holding a
-- privilege on it (turn it off with ALTER TABLE when that is really meant). A table without
-- tenancy is left as it is. Callable by app_admin and the migrating role only. Raises 22023 for a
-- null or non-application table.
create or replace function core.disable_tenancy(p_table regclass)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_object record;
begin
    perform core.tenancy_require_application_table(p_table);

    for v_object in
        select p.polname from pg_catalog.pg_policy p
        where p.polrelid = p_table and pg_catalog.starts_with(p.polname::text, 'smta tenancy: ')
    loop
        execute pg_catalog.format('drop policy %I on %s', v_object.polname, p_table);
    end loop;

    if exists (select 1 from pg_catalog.pg_trigger t where t.tgrelid = p_table and t.tgname = 'smta_tenancy_audit') then
        execute pg_catalog.format('drop trigger smta_tenancy_audit on %s', p_table);
    end if;

    for v_object in
        select i.indexrelid::regclass as index
        from pg_catalog.pg_index i
        where i.indrelid = p_table
          and pg_catalog.obj_description(i.indexrelid, 'pg_class')
              = 'Created by core.enable_tenancy for its policies; removed by core.disable_tenancy.'
    loop
        execute pg_catalog.format('drop index %s', v_object.index);
    end loop;

    execute pg_catalog.format('revoke select, insert, update, delete on %s from app_user', p_table);
    for v_object in
        select d.objid::regclass as sequence
        from pg_catalog.pg_depend d
        join pg_catalog.pg_class s on s.oid = d.objid and s.relkind = 'S'
        where d.classid = 'pg_catalog.pg_class'::regclass and d.refclassid = 'pg_catalog.pg_class'::regclass
          and d.refobjid = p_table and d.deptype = 'a'
    loop
        execute pg_catalog.format('revoke usage on sequence %s from app_user', v_object.sequence);
    end loop;
end
$$;

-- Operators only: app_admin (service_role) and the owner (the migrating role). Never the
-- runtime roles: app_user, authenticated and anon cannot execute them.
revoke all on function core.enable_tenancy(regclass, name, name, boolean) from public, anon, authenticated, app_user;
revoke all on function core.disable_tenancy(regclass) from public, anon, authenticated, app_user;
grant execute on function core.enable_tenancy(regclass, name, name, boolean) to app_admin;
grant execute on function core.disable_tenancy(regclass) to app_admin;
