-- 0001_foundation: schemas, neutral roles, the extensions schema, shared trigger functions and
-- the default identity hook. Everything here is idempotent because roles, and possibly the
-- extension, are shared with other databases of the cluster or with other applications.

-- ---------------------------------------------------------------------------------------------
-- The migrating role
-- ---------------------------------------------------------------------------------------------
-- Every core/platform table forces row-level security, and the API's SECURITY DEFINER functions
-- run as the role that owns them: the role applying these migrations. Forced RLS would lock that
-- role out of its own tables unless it bypasses RLS, so refuse early with one clear line instead
-- of failing obscurely later.
do $$
begin
    if not exists (
        select 1 from pg_catalog.pg_roles
        where rolname = current_user and (rolsuper or rolbypassrls)
    ) then
        raise exception 'SMTA migrations must run as a superuser or a role with BYPASSRLS (role "%" has neither)', current_user
            using errcode = '42501';
    end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Schemas
-- ---------------------------------------------------------------------------------------------
-- utils: shared trigger functions. core: tenancy. platform: the SaaS operator's tables (service
-- role only). app: the customer's own tables; SMTA grants nothing there. extensions: where SMTA
-- installs (or reaches) extensions, never public. The schema `smta` belongs to the migrator.
create schema if not exists utils;
create schema if not exists core;
create schema if not exists platform;
create schema if not exists app;
create schema if not exists extensions;

comment on schema utils is 'SMTA: shared trigger functions';
comment on schema core is 'SMTA: tenancy (organizations, units, memberships, roles, invitations, audit, files)';
comment on schema platform is 'SMTA: the SaaS operator''s tables; service role and platform admins only';
comment on schema app is 'The application''s own tables; SMTA grants nothing here by default';

-- ---------------------------------------------------------------------------------------------
-- Roles (cluster-global, so created only when missing)
-- ---------------------------------------------------------------------------------------------
-- app_user: the RLS-subject runtime role. app_admin: administration, BYPASSRLS. anon,
-- authenticated and service_role mirror Supabase, where they already exist and are left as
-- they are apart from the grants below.
--
-- Roles and role memberships belong to the whole cluster, while the migrator's advisory lock
-- covers one database: two databases of one cluster migrating at the same moment can both
-- find a role missing. The loser of that race gets duplicate_object or unique_violation, which
-- means the role (or membership) now exists: exactly what was wanted.
do $$
declare
    v_role record;
begin
    for v_role in
        select * from (values
            ('app_user', 'nologin'),
            ('app_admin', 'nologin bypassrls'),
            ('anon', 'nologin'),
            ('authenticated', 'nologin'),
            ('service_role', 'nologin bypassrls')
        ) as wanted (name, attributes)
        where not exists (select 1 from pg_catalog.pg_roles where rolname = wanted.name)
    loop
        begin
            execute pg_catalog.format('create role %I %s', v_role.name, v_role.attributes);
        exception
            when duplicate_object or unique_violation then
                null;
            when insufficient_privilege then
                if v_role.name <> 'app_admin' then
                    raise;
                end if;
                -- PostgreSQL 15 lets only superusers hand out BYPASSRLS. Role attributes are not
                -- inherited through membership anyway: service_role bypasses RLS by its own
                -- attribute, so app_admin without it still carries every table privilege.
                create role app_admin nologin;
                raise notice 'app_admin was created without BYPASSRLS (the migrating role may not grant it)';
        end;
    end loop;
end
$$;

-- authenticated acts as app_user (subject to RLS); service_role as app_admin. app_admin also
-- holds app_user, so the service role may call every API function an end user may.
do $$
declare
    v_grant record;
begin
    for v_grant in
        select * from (values
            ('app_user', 'authenticated'),
            ('app_admin', 'service_role'),
            ('app_user', 'app_admin')
        ) as wanted (granted, member)
        where not pg_catalog.pg_has_role(wanted.member, wanted.granted, 'member')
    loop
        begin
            execute pg_catalog.format('grant %I to %I', v_grant.granted, v_grant.member);
        exception when unique_violation then
            null;
        end;
    end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Schema privileges
-- ---------------------------------------------------------------------------------------------
-- public and extensions may be shared with other applications: SMTA adds objects there and
-- changes no existing privilege. platform is reachable by app_admin only.
revoke all on schema utils, core, platform from public;
grant usage on schema utils, core to app_user, app_admin;
grant usage on schema platform to app_admin;
-- Extension functions are called schema-qualified by SMTA's own (definer) code; the runtime
-- roles need to reach them only through that code, but resolving the schema costs nothing.
grant usage on schema extensions to app_user, app_admin;

-- ---------------------------------------------------------------------------------------------
-- pgcrypto
-- ---------------------------------------------------------------------------------------------
-- SMTA code always calls pgcrypto as extensions.<function>. Normally the extension lives in
-- schema extensions (as on Supabase). When another application already installed it in a
-- different schema, it is neither moved nor reinstalled (that would break that application):
-- instead thin SQL wrappers with the same names and signatures are created in extensions, each
-- delegating to the installed copy, so SMTA's calls resolve either way.
create extension if not exists pgcrypto with schema extensions;

do $$
declare
    v_schema name;
    v_fn record;
    v_params text;
    v_args text;
begin
    select n.nspname into v_schema
    from pg_catalog.pg_extension e
    join pg_catalog.pg_namespace n on n.oid = e.extnamespace
    where e.extname = 'pgcrypto';

    if v_schema = 'extensions' then
        return;
    end if;

    for v_fn in
        select * from (values
            ('gen_random_bytes', array['integer'], 'bytea'),
            ('digest', array['text', 'text'], 'bytea'),
            ('digest', array['bytea', 'text'], 'bytea'),
            ('hmac', array['text', 'text', 'text'], 'bytea'),
            ('hmac', array['bytea', 'bytea', 'text'], 'bytea'),
            ('pgp_sym_encrypt', array['text', 'text'], 'bytea'),
            ('pgp_sym_encrypt', array['text', 'text', 'text'], 'bytea'),
            ('pgp_sym_decrypt', array['bytea', 'text'], 'text'),
            ('pgp_sym_decrypt', array['bytea', 'text', 'text'], 'text')
        ) as f(name, arg_types, result)
    loop
        -- "p1 text, p2 text" for the signature, "p1, p2" for the delegated call
        select string_agg(format('p%s %s', i, t), ', ' order by i),
               string_agg(format('p%s', i), ', ' order by i)
          into v_params, v_args
        from unnest(v_fn.arg_types) with ordinality as a(t, i);

        execute format(
            'create or replace function extensions.%I(%s) returns %s '
            'language sql volatile strict set search_path = '''' as %L',
            v_fn.name, v_params, v_fn.result,
            format('select %I.%I(%s)', v_schema, v_fn.name, v_args));
    end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Identity hook
-- ---------------------------------------------------------------------------------------------
-- core.get_current_user_id(): the caller's user id, or null when nobody is authenticated.
-- Callable by the runtime roles; raises only if app.current_user_id holds something that is not
-- a uuid. Adapters replace the body (create or replace, same signature): Supabase reads
-- auth.uid(); Payload and any other backend set app.current_user_id per transaction.
create or replace function core.get_current_user_id()
returns uuid
language sql
stable
set search_path = ''
as $$
    select nullif(pg_catalog.current_setting('app.current_user_id', true), '')::uuid
$$;

revoke all on function core.get_current_user_id() from public;
grant execute on function core.get_current_user_id() to app_user, app_admin;

-- ---------------------------------------------------------------------------------------------
-- Shared trigger functions (utils)
-- ---------------------------------------------------------------------------------------------
-- utils.update_timestamp(): BEFORE UPDATE trigger keeping updated_at current. Attach it to any
-- table with an updated_at column (SMTA 0.8 uses the same name, so existing app triggers keep
-- working). Raises nothing.
create or replace function utils.update_timestamp()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.updated_at := pg_catalog.now();
    return new;
end
$$;

-- utils.set_tracking_columns(): BEFORE INSERT OR UPDATE trigger for tables with the tracking
-- columns (created_by, updated_by, is_deleted, deleted_at, deleted_by). It records the acting
-- user (core.get_current_user_id()) where the statement left a column unset, keeps created_by
-- and created_at immutable, stamps deleted_at/deleted_by when a row is soft-deleted and clears
-- them when it is restored. Runs as the caller; raises nothing.
create or replace function utils.set_tracking_columns()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_actor uuid := core.get_current_user_id();
begin
    if tg_op = 'INSERT' then
        new.created_by := coalesce(new.created_by, v_actor);
        new.updated_by := coalesce(new.updated_by, v_actor, new.created_by);
        if new.is_deleted then
            new.deleted_at := coalesce(new.deleted_at, pg_catalog.now());
            new.deleted_by := coalesce(new.deleted_by, v_actor);
        end if;
        return new;
    end if;

    new.created_by := old.created_by;
    new.created_at := old.created_at;
    -- A statement that does not name updated_by carries the old value over: replace it.
    if new.updated_by is not distinct from old.updated_by and v_actor is not null then
        new.updated_by := v_actor;
    end if;
    if new.is_deleted and not old.is_deleted then
        new.deleted_at := coalesce(new.deleted_at, pg_catalog.now());
        new.deleted_by := coalesce(new.deleted_by, v_actor);
    elsif old.is_deleted and not new.is_deleted then
        new.deleted_at := null;
        new.deleted_by := null;
    end if;
    return new;
end
$$;
