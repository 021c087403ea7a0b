-- Supabase adapter, SQL part: identity from Supabase's JWT claims (auth.uid()), the role
-- mapping, secrets in Supabase Vault when it is installed, and users_meta rows for new
-- Supabase Auth users. Applied after the core migrations. It runs both on Supabase and on a
-- plain PostgreSQL (local development, tests, self-hosting behind the bridge).

-- ---------------------------------------------------------------------------------------------
-- auth.uid(), auth.role(), auth.email(), auth.jwt()
-- ---------------------------------------------------------------------------------------------
-- On Supabase these exist (owned by Supabase Auth) and are left untouched, grants included. On
-- a plain PostgreSQL each missing one is created with Supabase's behaviour, so that policies and
-- functions written for Supabase work unchanged: a claim comes from the legacy per-claim setting
-- (request.jwt.claim.<name>) when that is non-empty, otherwise from the JSON object in
-- request.jwt.claims, which PostgREST (and the bridge) set per transaction; an empty setting
-- counts as absent, since settings read back as '' once their transaction has ended. What is
-- created here is granted to the API roles as Supabase grants it.
do $$
declare
    v_provided boolean := false;
begin
    if to_regnamespace('auth') is null then
        create schema auth;
    end if;

    if to_regprocedure('auth.uid()') is null then
        create function auth.uid()
        returns uuid
        language sql
        stable
        set search_path = ''
        as $fn$
            select coalesce(
                nullif(pg_catalog.current_setting('request.jwt.claim.sub', true), ''),
                nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
            )::uuid
        $fn$;
        comment on function auth.uid() is
            'The JWT''s sub claim as a uuid (Supabase''s definition, provided by SMTA on plain PostgreSQL)';
        grant execute on function auth.uid() to anon, authenticated, service_role;
        v_provided := true;
    end if;

    if to_regprocedure('auth.role()') is null then
        create function auth.role()
        returns text
        language sql
        stable
        set search_path = ''
        as $fn$
            select coalesce(
                nullif(pg_catalog.current_setting('request.jwt.claim.role', true), ''),
                nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
            )::text
        $fn$;
        comment on function auth.role() is
            'The JWT''s role claim (Supabase''s definition, provided by SMTA on plain PostgreSQL)';
        grant execute on function auth.role() to anon, authenticated, service_role;
        v_provided := true;
    end if;

    if to_regprocedure('auth.email()') is null then
        create function auth.email()
        returns text
        language sql
        stable
        set search_path = ''
        as $fn$
            select coalesce(
                nullif(pg_catalog.current_setting('request.jwt.claim.email', true), ''),
                nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'email'
            )::text
        $fn$;
        comment on function auth.email() is
            'The JWT''s email claim (Supabase''s definition, provided by SMTA on plain PostgreSQL)';
        grant execute on function auth.email() to anon, authenticated, service_role;
        v_provided := true;
    end if;

    if to_regprocedure('auth.jwt()') is null then
        create function auth.jwt()
        returns jsonb
        language sql
        stable
        set search_path = ''
        as $fn$
            select coalesce(
                nullif(pg_catalog.current_setting('request.jwt.claim', true), ''),
                nullif(pg_catalog.current_setting('request.jwt.claims', true), '')
            )::jsonb
        $fn$;
        comment on function auth.jwt() is
            'All JWT claims (Supabase''s definition, provided by SMTA on plain PostgreSQL)';
        grant execute on function auth.jwt() to anon, authenticated, service_role;
        v_provided := true;
    end if;

    if v_provided then
        grant usage on schema auth to anon, authenticated, service_role;
    end if;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- Roles
-- ---------------------------------------------------------------------------------------------
-- Supabase's API roles act as SMTA's neutral roles: authenticated is an RLS-subject app_user,
-- service_role an app_admin. (0001 did the same for the roles it created; granting a
-- membership again only raises a notice.)
grant app_user to authenticated;
grant app_admin to service_role;

-- ---------------------------------------------------------------------------------------------
-- Identity hooks
-- ---------------------------------------------------------------------------------------------
-- core.get_current_user_id(): the JWT's subject, auth.uid(). Runs as its owner so that any role
-- allowed to call it (app_user, app_admin) needs no privilege on the auth schema. Raises only
-- when the sub claim is not a uuid (exactly like auth.uid()).
create or replace function core.get_current_user_id()
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
    select auth.uid()
$$;

-- core.get_current_user_email(): the caller's email, as invitations compare it: the JWT's email
-- claim when it is non-empty (Supabase sends "" for users without one), else the email of the
-- caller's live core.users_meta row. Callable by app_user and app_admin; raises nothing.
create or replace function core.get_current_user_email()
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(
        nullif(auth.email(), ''),
        (select um.email
         from core.users_meta as um
         where um.id = core.get_current_user_id()
           and not um.is_deleted)
    )
$$;

-- ---------------------------------------------------------------------------------------------
-- Secrets in Supabase Vault
-- ---------------------------------------------------------------------------------------------
-- When the supabase_vault extension is installed, the three secret hooks of 0020 are replaced
-- by Vault-backed ones: the reference is the Vault secret's id. Each secret is created without
-- a Vault name (names are unique across the whole Vault, and tenants choose theirs freely);
-- its display name becomes the Vault description. Without Vault the pgcrypto store of 0020
-- stays in force. The functions are created through EXECUTE so that this file loads on a
-- database without the vault schema. Secrets stored before Vault was installed stay in the
-- pgcrypto store and are not migrated by this file.
do $$
begin
    if not exists (select 1 from pg_catalog.pg_extension where extname = 'supabase_vault') then
        raise notice 'supabase_vault is not installed: secrets stay in the pgcrypto store (app.secrets_key)';
        return;
    end if;

    -- core.store_secret_impl (Vault): stores p_secret in Vault and returns the Vault id.
    -- Called by public.create_secret; executable by app_admin. Raises 22023 for a null value.
    execute $sql$
        create or replace function core.store_secret_impl(p_secret text, p_name text default null)
        returns text
        language plpgsql
        security definer
        set search_path = ''
        as $fn$
        begin
            if p_secret is null then
                raise exception 'A secret value is required'
                    using errcode = '22023';
            end if;
            return vault.create_secret(p_secret, null, coalesce(p_name, ''))::text;
        end;
        $fn$
    $sql$;

    -- core.read_secret_impl (Vault): the decrypted value of the Vault secret a reference names.
    -- Called by public.read_secret; executable by app_admin. Raises 22023 for a malformed
    -- reference, P0002 when Vault holds no such secret.
    execute $sql$
        create or replace function core.read_secret_impl(p_secret_ref text)
        returns text
        language plpgsql
        stable
        security definer
        set search_path = ''
        as $fn$
        declare
            v_value text;
        begin
            select ds.decrypted_secret into v_value
            from vault.decrypted_secrets as ds
            where ds.id = core.secret_ref_id(p_secret_ref);
            if not found then
                raise exception 'Secret not found'
                    using errcode = 'P0002';
            end if;
            return v_value;
        end;
        $fn$
    $sql$;

    -- core.delete_secret_impl (Vault): deletes the Vault secret a reference names (an unknown
    -- reference is a no-op). Called by public.delete_secret; executable by app_admin.
    -- Raises 22023 for a malformed reference.
    execute $sql$
        create or replace function core.delete_secret_impl(p_secret_ref text)
        returns void
        language plpgsql
        security definer
        set search_path = ''
        as $fn$
        begin
            delete from vault.secrets as s
            where s.id = core.secret_ref_id(p_secret_ref);
        end;
        $fn$
    $sql$;
end;
$$;

-- ---------------------------------------------------------------------------------------------
-- New Supabase Auth users
-- ---------------------------------------------------------------------------------------------
-- On Supabase (auth.users exists), every new user gets a core.users_meta row carrying their
-- email, and an email change follows into it, so that email-bound invitations and member lists
-- know the user. On a plain PostgreSQL there is no auth.users and nothing is created.
do $$
begin
    if to_regclass('auth.users') is null then
        return;
    end if;

    -- core.sync_auth_user(): AFTER INSERT OR UPDATE OF email trigger on auth.users: creates the
    -- user's core.users_meta row, or updates its email. Fired by Supabase Auth only; raises
    -- nothing of its own.
    execute $sql$
        create or replace function core.sync_auth_user()
        returns trigger
        language plpgsql
        security definer
        set search_path = ''
        as $fn$
        begin
            insert into core.users_meta as um (id, email, created_by, updated_by)
            values (new.id, new.email, new.id, new.id)
            on conflict (id) do update
            set email = excluded.email
            where um.email is distinct from excluded.email;
            return null;
        end;
        $fn$
    $sql$;

    execute 'revoke all on function core.sync_auth_user() from public, anon, authenticated';

    -- Upstream SMTA's trigger has this name: a database moving from upstream gets its trigger
    -- replaced rather than a second one inserting the same users_meta row.

    execute $sql$
        create or replace trigger trg_on_auth_user_created
        after insert or update of email on auth.users
        for each row execute function core.sync_auth_user()
    $sql$;
end;
$$;
