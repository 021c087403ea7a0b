-- 0004_triggers: tracking columns, rows created alongside organizations and units, tenant keys
-- that never move, nested-unit sanity, super_admin protection, no escalation through direct
-- table writes, and the audit trail.
--
-- Who is "privileged"? Several rules below apply only to callers subject to row-level
-- security: a client connected as authenticated/app_user writing the tables directly. The
-- API functions are SECURITY DEFINER and owned by the migrating role, which is a superuser or
-- has BYPASSRLS (0001 insists on it); inside them current_user is that owner. A direct client
-- cannot become such a role, and unlike a setting (any client can set_config anything) the
-- current role cannot be forged. So "privileged" = the current role is a superuser or has
-- BYPASSRLS: the owner inside API functions, service_role, or an operator's admin session.
-- Those callers enforce their own rules (the API functions check the caller themselves).

-- core.current_role_is_privileged(): is the current role (current_user) a superuser or a
-- BYPASSRLS role? SECURITY INVOKER on purpose: it must see the caller's role. Used by the
-- trigger functions below; raises nothing.
create or replace function core.current_role_is_privileged()
returns boolean
language sql
stable
set search_path = ''
as $$
    select coalesce(
        (select r.rolsuper or r.rolbypassrls from pg_catalog.pg_roles r where r.rolname = current_user),
        false)
$$;

revoke all on function core.current_role_is_privileged() from public;
grant execute on function core.current_role_is_privileged() to app_user, app_admin;

-- =============================================================================================
-- updated_at and tracking columns
-- =============================================================================================
-- trg_<table>_updated keeps updated_at current (the names SMTA 0.8's suite checks);
-- trg_<table>_tracking fills created_by/updated_by/deleted_* (utils.set_tracking_columns).
do $$
declare
    v_table regclass;
begin
    foreach v_table in array array[
        'core.organizations', 'core.roles', 'core.organization_files', 'core.organizations_meta',
        'core.units', 'core.unit_meta', 'core.memberships', 'core.unit_memberships',
        'core.invitations', 'core.users_meta',
        'platform.platform_roles', 'platform.platform_users', 'platform.platform_organizations',
        'platform.platform_settings', 'platform.platform_feature_flags',
        'platform.platform_subscription_overrides', 'platform.subscription_products',
        'platform.billing_customers', 'platform.billing_subscriptions', 'platform.tenant_secrets'
    ]::regclass[]
    loop
        execute format(
            'create trigger %I before update on %s for each row execute function utils.update_timestamp()',
            'trg_' || (select relname from pg_catalog.pg_class where oid = v_table) || '_updated', v_table);
        execute format(
            'create trigger %I before insert or update on %s for each row execute function utils.set_tracking_columns()',
            'trg_' || (select relname from pg_catalog.pg_class where oid = v_table) || '_tracking', v_table);
    end loop;
end
$$;

-- =============================================================================================
-- Tenant keys never move
-- =============================================================================================
-- core.forbid_tenant_key_change(): BEFORE UPDATE trigger; the trigger arguments name columns
-- that must keep their value (which organization, unit or user a row belongs to). Moving a row
-- to another tenant would bypass every check made when it was created: create a new row
-- instead. Applies to everyone; raises 22023 naming the column.
create or replace function core.forbid_tenant_key_change()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_old jsonb := pg_catalog.to_jsonb(old);
    v_new jsonb := pg_catalog.to_jsonb(new);
    v_column text;
begin
    foreach v_column in array tg_argv loop
        if v_old -> v_column is distinct from v_new -> v_column then
            raise exception '%.%.% cannot change: create a new row instead', tg_table_schema, tg_table_name, v_column
                using errcode = '22023';
        end if;
    end loop;
    return new;
end
$$;

create trigger trg_units_tenant_keys before update on core.units
    for each row execute function core.forbid_tenant_key_change('organization_id');
create trigger trg_roles_tenant_keys before update on core.roles
    for each row execute function core.forbid_tenant_key_change('organization_id');
create trigger trg_organization_files_tenant_keys before update on core.organization_files
    for each row execute function core.forbid_tenant_key_change('organization_id');
create trigger trg_memberships_tenant_keys before update on core.memberships
    for each row execute function core.forbid_tenant_key_change('user_id', 'organization_id');
create trigger trg_unit_memberships_tenant_keys before update on core.unit_memberships
    for each row execute function core.forbid_tenant_key_change('user_id', 'unit_id');
create trigger trg_invitations_tenant_keys before update on core.invitations
    for each row execute function core.forbid_tenant_key_change('organization_id', 'unit_id');

-- =============================================================================================
-- Nested units: no cycles
-- =============================================================================================
-- core.check_unit_parent(): BEFORE UPDATE OF parent_unit_id on core.units. The composite key
-- already keeps a parent inside the same organization; this refuses a parent that is the unit
-- itself or one of its descendants. Parent changes of one organization are serialized by a
-- transaction advisory lock, so two concurrent moves cannot build a cycle together. Applies to
-- everyone; raises 22023.
create or replace function core.check_unit_parent()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if new.parent_unit_id is null or new.parent_unit_id is not distinct from old.parent_unit_id then
        return new;
    end if;

    -- class 7 = "SMTA unit tree" (an arbitrary constant keeping this key apart from others)
    perform pg_catalog.pg_advisory_xact_lock(7, pg_catalog.hashtext(new.organization_id::text));

    if exists (
        with recursive ancestors (id) as (
            select new.parent_unit_id
            union
            select u.parent_unit_id
            from core.units u
            join ancestors a on u.id = a.id
            where u.parent_unit_id is not null
        )
        select 1 from ancestors where id = new.id
    ) then
        raise exception 'A unit cannot be nested inside itself or one of its own sub-units'
            using errcode = '22023';
    end if;
    return new;
end
$$;

create trigger trg_units_parent_check before update of parent_unit_id on core.units
    for each row execute function core.check_unit_parent();

-- =============================================================================================
-- Roles used by memberships and invitations
-- =============================================================================================
-- core.check_role_scope(): BEFORE INSERT OR UPDATE OF role_id on memberships, unit_memberships
-- and invitations. The role must exist, not be deleted, and be global or belong to the row's
-- organization (an organization's own roles are not usable elsewhere). Applies to everyone;
-- raises P0002 (unknown role) or 22023.
create or replace function core.check_role_scope()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_row jsonb := pg_catalog.to_jsonb(new);
    v_org_id uuid;
    v_role core.roles;
begin
    if tg_table_name = 'unit_memberships' then
        select u.organization_id into v_org_id from core.units u where u.id = new.unit_id;
    else
        v_org_id := (v_row ->> 'organization_id')::uuid;
    end if;

    select * into v_role from core.roles r where r.id = new.role_id;
    if not found or v_role.is_deleted then
        raise exception 'Role not found' using errcode = 'P0002';
    end if;
    if v_role.organization_id is not null and v_role.organization_id is distinct from v_org_id then
        raise exception 'Role "%" belongs to another organization', v_role.name using errcode = '22023';
    end if;
    return new;
end
$$;

create trigger trg_memberships_role_scope before insert or update of role_id on core.memberships
    for each row execute function core.check_role_scope();
create trigger trg_unit_memberships_role_scope before insert or update of role_id on core.unit_memberships
    for each row execute function core.check_role_scope();
create trigger trg_invitations_role_scope before insert or update of role_id on core.invitations
    for each row execute function core.check_role_scope();

-- =============================================================================================
-- Rows created with an organization or a unit
-- =============================================================================================
-- core.handle_new_organization(): AFTER INSERT on core.organizations. Creates the
-- organization's core.organizations_meta row and its platform.platform_organizations row (same
-- id), and makes its creator (created_by, which the tracking trigger fills from the caller)
-- the super_admin. An organization created with no known creator (by an operator) gets no
-- membership. SECURITY DEFINER: the caller may write none of these directly. Raises P0002 if
-- the built-in super_admin role is missing.
create or replace function core.handle_new_organization()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_super_admin_role uuid;
begin
    insert into core.organizations_meta (id, created_by, updated_by)
    values (new.id, new.created_by, new.created_by);

    insert into platform.platform_organizations (id, label, created_by, updated_by)
    values (new.id, new.name, new.created_by, new.created_by)
    on conflict (id) do nothing;

    if new.created_by is not null then
        select r.id into v_super_admin_role
        from core.roles r
        where r.name = 'super_admin' and r.organization_id is null and not r.is_deleted;
        if v_super_admin_role is null then
            raise exception 'The built-in role super_admin is missing' using errcode = 'P0002';
        end if;

        insert into core.memberships (user_id, organization_id, role_id, is_super_admin, created_by, updated_by)
        values (new.created_by, new.id, v_super_admin_role, true, new.created_by, new.created_by)
        on conflict (user_id, organization_id) do nothing;
    end if;
    return new;
end
$$;

create trigger trg_on_organization_created after insert on core.organizations
    for each row execute function core.handle_new_organization();

-- core.handle_new_unit(): AFTER INSERT on core.units; creates the unit's core.unit_meta row.
-- SECURITY DEFINER (callers do not insert unit_meta themselves). Raises nothing of its own.
create or replace function core.handle_new_unit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into core.unit_meta (id, created_by, updated_by)
    values (new.id, new.created_by, new.created_by);
    return new;
end
$$;

create trigger trg_on_unit_created after insert on core.units
    for each row execute function core.handle_new_unit();

-- =============================================================================================
-- The super_admin membership
-- =============================================================================================
-- core.protect_super_admin(): BEFORE UPDATE OR DELETE on core.memberships, for everyone
-- (owner and superuser included). The live super_admin membership can be neither deleted nor
-- soft-deleted while its organization exists; ownership moves with
-- public.transfer_super_admin, which clears the old flag and sets the new one. (Clearing the
-- flag is refused to direct clients by core.guard_direct_membership_write, and an
-- organization left without its super_admin is refused at commit by
-- core.check_org_keeps_super_admin.) When the organization itself is hard-deleted, its
-- memberships go with it. Raises P0001 with the messages SMTA 0.8 uses.
create or replace function core.protect_super_admin()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if tg_op = 'DELETE' then
        if old.is_super_admin and not old.is_deleted
           and exists (select 1 from core.organizations o where o.id = old.organization_id) then
            raise exception 'Cannot delete super_admin membership. Transfer super_admin status first.';
        end if;
        return old;
    end if;

    if old.is_super_admin and not old.is_deleted and new.is_deleted then
        raise exception 'Cannot soft-delete super_admin membership. Transfer super_admin status first.';
    end if;
    return new;
end
$$;

create trigger trg_protect_super_admin before update or delete on core.memberships
    for each row execute function core.protect_super_admin();

-- core.check_org_keeps_super_admin(): deferred constraint trigger, checked at commit for every
-- membership that lost its super_admin flag or was deleted while holding it: a live
-- organization must end the transaction with a live super_admin. transfer_super_admin
-- satisfies it (old flag cleared, new one set); an organization that is deleted in the same
-- transaction is exempt. Applies to everyone; raises P0001.
create or replace function core.check_org_keeps_super_admin()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if exists (select 1 from core.organizations o where o.id = old.organization_id and not o.is_deleted)
       and not exists (
           select 1 from core.memberships m
           where m.organization_id = old.organization_id and m.is_super_admin and not m.is_deleted
       ) then
        raise exception 'Organization % would be left without a super_admin: use transfer_super_admin', old.organization_id;
    end if;
    return null;
end
$$;

create constraint trigger trg_memberships_keep_super_admin
    after update or delete on core.memberships
    deferrable initially deferred
    for each row when (old.is_super_admin)
    execute function core.check_org_keeps_super_admin();

-- =============================================================================================
-- No escalation through direct table writes (SMTA 0.8 defect 7)
-- =============================================================================================
-- core.guard_direct_membership_write(): AFTER INSERT OR UPDATE on core.memberships and
-- core.unit_memberships, for callers subject to RLS only (see the header). The policies of
-- 0005 already limit these writes to the organization's super_admin and managers; this adds
-- the rules a policy cannot express with a clear message:
--   * nobody changes their own membership or unit membership (except that the super_admin,
--     who reaches every unit anyway, may place themselves in the organization's units);
--   * is_super_admin never changes here (public.transfer_super_admin moves it), and the
--     super_admin's own membership row is left alone;
--   * only the super_admin may give the super_admin role;
--   * a unit membership is only for a member of the unit's organization.
-- It runs AFTER the row is written so that a plain duplicate still reports 23505 first; a
-- raise here undoes the statement all the same. SECURITY INVOKER: it must see the caller's
-- role. Raises 42501 (not allowed) or P0001 (not a member).
create or replace function core.guard_direct_membership_write()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_me uuid;
    v_org_id uuid;
    v_role_changed boolean;
begin
    if core.current_role_is_privileged() then
        return null;
    end if;

    v_me := core.get_current_user_id();
    if v_me is null then
        raise exception 'Not authenticated' using errcode = '42501';
    end if;

    if tg_table_name = 'memberships' then
        v_org_id := new.organization_id;
        if new.user_id = v_me or (tg_op = 'UPDATE' and old.user_id = v_me) then
            raise exception 'You cannot change your own membership' using errcode = '42501';
        end if;
        if tg_op = 'UPDATE' and old.is_super_admin then
            raise exception 'The super_admin''s membership changes only through transfer_super_admin'
                using errcode = '42501';
        end if;
        if new.is_super_admin then
            raise exception 'Only transfer_super_admin can make someone the super_admin'
                using errcode = '42501';
        end if;
    else
        v_org_id := core.get_org_id_for_unit(new.unit_id);
        if v_org_id is null then
            raise exception 'Unit not found' using errcode = 'P0002';
        end if;
        -- The super_admin already reaches every unit of the organization: placing themselves
        -- in one of its units grants them nothing, so it is the one self-change allowed.
        if (new.user_id = v_me or (tg_op = 'UPDATE' and old.user_id = v_me))
           and not v_org_id = any (core.current_user_super_admin_org_ids()) then
            raise exception 'You cannot change your own membership' using errcode = '42501';
        end if;
    end if;

    if not v_org_id = any (core.current_user_managed_org_ids()) then
        raise exception 'Only the organization''s super_admin and managers can change memberships'
            using errcode = '42501';
    end if;

    v_role_changed := tg_op = 'INSERT' or new.role_id is distinct from old.role_id;
    if v_role_changed
       and exists (select 1 from core.roles r where r.id = new.role_id and r.name = 'super_admin')
       and not v_org_id = any (core.current_user_super_admin_org_ids()) then
        raise exception 'Only the super_admin can give the super_admin role' using errcode = '42501';
    end if;

    if tg_table_name = 'unit_memberships' and not new.is_deleted
       and not exists (
           select 1 from core.memberships m
           where m.user_id = new.user_id and m.organization_id = v_org_id and not m.is_deleted
       ) then
        raise exception 'User is not a member of the organization';
    end if;

    return null;
end
$$;

create trigger trg_memberships_direct_write_guard after insert or update on core.memberships
    for each row execute function core.guard_direct_membership_write();
create trigger trg_unit_memberships_direct_write_guard after insert or update on core.unit_memberships
    for each row execute function core.guard_direct_membership_write();

-- =============================================================================================
-- Audit (SMTA 0.8 defect 3): every change, in the same transaction, with organization and actor
-- =============================================================================================

-- core.organization_of_row(p_table, p_id): the organization a row belongs to, found through an
-- organization_id column, a unit (unit_id column, or the row is a unit's meta row), or the row
-- being an organization (or its meta row); null when it cannot tell. Internal: used by
-- core.log_audit; callable by nobody else. Raises nothing.
create or replace function core.organization_of_row(p_table regclass, p_id uuid)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_org_id uuid;
    v_unit_id uuid;
begin
    if p_table is null or p_id is null then
        return null;
    end if;
    if p_table in ('core.organizations'::regclass, 'core.organizations_meta'::regclass) then
        return p_id;
    end if;
    if p_table in ('core.units'::regclass, 'core.unit_meta'::regclass) then
        select u.organization_id into v_org_id from core.units u where u.id = p_id;
        return v_org_id;
    end if;
    if exists (select 1 from pg_catalog.pg_attribute a
               where a.attrelid = p_table and a.attname = 'organization_id' and a.atttypid = 'uuid'::regtype
                 and not a.attisdropped)
       and exists (select 1 from pg_catalog.pg_attribute a
                   where a.attrelid = p_table and a.attname = 'id' and a.atttypid = 'uuid'::regtype
                     and not a.attisdropped) then
        execute format('select organization_id from %s where id = $1', p_table) into v_org_id using p_id;
        return v_org_id;
    end if;
    if exists (select 1 from pg_catalog.pg_attribute a
               where a.attrelid = p_table and a.attname = 'unit_id' and a.atttypid = 'uuid'::regtype
                 and not a.attisdropped)
       and exists (select 1 from pg_catalog.pg_attribute a
                   where a.attrelid = p_table and a.attname = 'id' and a.atttypid = 'uuid'::regtype
                     and not a.attisdropped) then
        execute format('select unit_id from %s where id = $1', p_table) into v_unit_id using p_id;
        select u.organization_id into v_org_id from core.units u where u.id = v_unit_id;
        return v_org_id;
    end if;
    return null;
end
$$;

revoke all on function core.organization_of_row(regclass, uuid) from public;

-- core.audit_row_change(): AFTER INSERT OR UPDATE OR DELETE row trigger writing one
-- core.audit_logs row per change, in the same transaction. Reusable on any table (app tables
-- included) with these trigger arguments:
--   1. the column holding the row's organization id ('' if none),
--   2. else a column holding a unit id whose organization is used ('' if none),
--   3+. columns never to copy into the log (their change is noted by name only).
-- Recorded: actor_id = core.get_current_user_id(), organization_id (null if none or if the
-- organization no longer exists), target_table 'schema.table', target_id (the row's uuid id,
-- if it has one), action insert | update | delete, or soft_delete | restore when is_deleted
-- flips, a short summary and metadata: the new row (insert), the old row (delete) or the
-- changed columns with old and new values (update). Updates that change nothing but
-- updated_at/updated_by are not logged. SECURITY DEFINER: callers cannot write the log
-- themselves. Raises nothing of its own.
create or replace function core.audit_row_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_old jsonb := case when tg_op in ('UPDATE', 'DELETE') then pg_catalog.to_jsonb(old) end;
    v_new jsonb := case when tg_op in ('INSERT', 'UPDATE') then pg_catalog.to_jsonb(new) end;
    v_row jsonb := coalesce(v_new, v_old);
    v_org_column text := nullif(tg_argv[0], '');
    v_unit_column text := nullif(tg_argv[1], '');
    v_hidden text[] := coalesce(tg_argv[2:], '{}');
    v_table text := tg_table_schema || '.' || tg_table_name;
    v_org_id uuid;
    v_target_id uuid;
    v_action text;
    v_changed jsonb;
    v_hidden_changed text[];
    v_metadata jsonb;
    v_summary text;
begin
    -- which organization
    if v_org_column is not null then
        v_org_id := (v_row ->> v_org_column)::uuid;
    elsif v_unit_column is not null then
        select u.organization_id into v_org_id from core.units u where u.id = (v_row ->> v_unit_column)::uuid;
    end if;
    if v_org_id is not null and not exists (select 1 from core.organizations o where o.id = v_org_id) then
        v_org_id := null; -- the organization is being deleted in this very statement
    end if;

    if v_row ->> 'id' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        v_target_id := (v_row ->> 'id')::uuid;
    end if;

    if tg_op = 'INSERT' then
        v_action := 'insert';
        v_metadata := pg_catalog.jsonb_build_object('new', v_new - v_hidden);
        v_summary := 'Created a row in ' || v_table;
    elsif tg_op = 'DELETE' then
        v_action := 'delete';
        v_metadata := pg_catalog.jsonb_build_object('old', v_old - v_hidden);
        v_summary := 'Deleted a row from ' || v_table;
    else
        select pg_catalog.jsonb_object_agg(n.key, pg_catalog.jsonb_build_object('old', o.value, 'new', n.value)),
               pg_catalog.array_agg(n.key) filter (where n.key = any (v_hidden))
          into v_changed, v_hidden_changed
        from pg_catalog.jsonb_each(v_new) n
        join pg_catalog.jsonb_each(v_old) o on o.key = n.key
        where n.value is distinct from o.value
          and n.key not in ('updated_at', 'updated_by');

        if v_changed is null then
            return null;
        end if;
        v_changed := v_changed - v_hidden;

        if (v_old ->> 'is_deleted')::boolean is false and (v_new ->> 'is_deleted')::boolean then
            v_action := 'soft_delete';
            v_summary := 'Soft-deleted a row of ' || v_table;
        elsif (v_old ->> 'is_deleted')::boolean and (v_new ->> 'is_deleted')::boolean is false then
            v_action := 'restore';
            v_summary := 'Restored a row of ' || v_table;
        else
            v_action := 'update';
            v_summary := 'Updated ' || v_table || ': '
                || (select pg_catalog.string_agg(k, ', ' order by k)
                    from (select pg_catalog.jsonb_object_keys(v_changed)
                          union all
                          select pg_catalog.unnest(v_hidden_changed)) as c (k));
        end if;
        v_metadata := pg_catalog.jsonb_build_object('changed', v_changed);
        if v_hidden_changed is not null then
            v_metadata := v_metadata || pg_catalog.jsonb_build_object('redacted', pg_catalog.to_jsonb(v_hidden_changed));
        end if;
    end if;

    insert into core.audit_logs (actor_id, organization_id, target_table, target_id, action, summary, metadata)
    values (core.get_current_user_id(), v_org_id, v_table, v_target_id, v_action, v_summary, v_metadata);
    return null;
end
$$;

revoke all on function core.audit_row_change() from public;

create trigger trg_organizations_audit after insert or update or delete on core.organizations
    for each row execute function core.audit_row_change('id', '');
create trigger trg_organizations_meta_audit after insert or update or delete on core.organizations_meta
    for each row execute function core.audit_row_change('id', '');
create trigger trg_roles_audit after insert or update or delete on core.roles
    for each row execute function core.audit_row_change('organization_id', '');
create trigger trg_organization_files_audit after insert or update or delete on core.organization_files
    for each row execute function core.audit_row_change('organization_id', '');
create trigger trg_units_audit after insert or update or delete on core.units
    for each row execute function core.audit_row_change('organization_id', '');
create trigger trg_unit_meta_audit after insert or update or delete on core.unit_meta
    for each row execute function core.audit_row_change('', 'id');
create trigger trg_memberships_audit after insert or update or delete on core.memberships
    for each row execute function core.audit_row_change('organization_id', '');
create trigger trg_unit_memberships_audit after insert or update or delete on core.unit_memberships
    for each row execute function core.audit_row_change('', 'unit_id');
-- the token hash never reaches the log
create trigger trg_invitations_audit after insert or update or delete on core.invitations
    for each row execute function core.audit_row_change('organization_id', '', 'token');
create trigger trg_users_meta_audit after insert or update or delete on core.users_meta
    for each row execute function core.audit_row_change('', '');

-- core.protect_audit_logs(): keeps core.audit_logs append-only. BEFORE UPDATE/DELETE (row)
-- and BEFORE TRUNCATE (statement); only the table's owner (or a member of the owning role) and
-- superusers pass, e.g. for retention jobs. SECURITY INVOKER: it must see the caller's role.
-- Raises 42501.
create or replace function core.protect_audit_logs()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if not exists (
        select 1 from pg_catalog.pg_class c
        where c.oid = tg_relid and pg_catalog.pg_has_role(current_user, c.relowner, 'MEMBER')
    ) and not exists (
        select 1 from pg_catalog.pg_roles r where r.rolname = current_user and r.rolsuper
    ) then
        raise exception 'The audit log is append-only' using errcode = '42501';
    end if;
    return case when tg_op = 'DELETE' then old else new end;
end
$$;

revoke all on function core.protect_audit_logs() from public;

create trigger trg_audit_logs_append_only before update or delete on core.audit_logs
    for each row execute function core.protect_audit_logs();
create trigger trg_audit_logs_no_truncate before truncate on core.audit_logs
    for each statement execute function core.protect_audit_logs();

-- core.log_audit(action_type, target_table, target_id, summary, metadata): writes a manual
-- audit entry (e.g. an application event such as a login or an export). The organization is
-- inferred from the target row (target_table must then be schema-qualified, e.g. 'core.units')
-- or else from metadata->>'organization_id'; the entry carries no organization when neither
-- tells. Callable by the runtime roles; an entry for an organization needs a caller who is a
-- live member of it. Raises 22023 (missing action or table) or 42501.
create or replace function core.log_audit(
    action_type text,
    target_table text,
    target_id uuid,
    summary text,
    metadata jsonb
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_org_id uuid;
begin
    if nullif(btrim(action_type), '') is null or nullif(btrim(target_table), '') is null then
        raise exception 'action_type and target_table are required' using errcode = '22023';
    end if;

    v_org_id := core.organization_of_row(pg_catalog.to_regclass(target_table), target_id);
    if v_org_id is null
       and metadata ->> 'organization_id' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        v_org_id := (metadata ->> 'organization_id')::uuid;
    end if;
    if v_org_id is not null and not exists (select 1 from core.organizations o where o.id = v_org_id) then
        v_org_id := null;
    end if;

    -- Inside this function current_user is the owner, so the caller is known only by its
    -- identity: an organization's log takes entries from its live members only (operators
    -- write core.audit_logs directly as app_admin).
    if v_org_id is not null and not v_org_id = any (core.current_user_org_ids()) then
        raise exception 'You are not a member of this organization' using errcode = '42501';
    end if;

    insert into core.audit_logs (actor_id, organization_id, target_table, target_id, action, summary, metadata)
    values (core.get_current_user_id(), v_org_id, target_table, target_id, action_type, summary, metadata);
end
$$;

revoke all on function core.log_audit(text, text, uuid, text, jsonb) from public;
grant execute on function core.log_audit(text, text, uuid, text, jsonb) to app_user, app_admin;
