-- 0070_caller_identity: one function records who the caller is, for every path and adapter.
--
-- Until now the bridge set the caller's settings in two places: core.gate_call (one-statement
-- calls) and a statement of its own at the start of a gated transaction, and both called
-- core.link_identity, which only the Payload adapter's SQL part defined. Here:
-- * core.set_caller does the whole job once: the role check, the identity link, the
--   transaction-local settings, the role switch. core.gate_call and the gate's transactions
--   both call it.
-- * core.link_identity gets a neutral default (created only where no adapter has defined one):
--   adapters that map external subjects to SMTA user ids replace it in their SQL part; with
--   the others it is never called, and says so if it is.
-- * Anonymous sign-ins (Supabase's is_anonymous claim, or any adapter's claims saying so) are
--   refused what makes them a tenant — creating an organization, becoming a member — by
--   triggers, so that every path obeys (the API, a direct INSERT under RLS, another trigger).
--   The bridge's allow_anonymous_users setting opts in, per transaction.

-- ---------------------------------------------------------------------------------------------
-- The identity-linking hook
-- ---------------------------------------------------------------------------------------------
-- core.link_identity(provider, subject, email): the SMTA user id of an external identity. The
-- default raises: this database's adapter gives user ids directly. Created only when absent, so
-- that an adapter's definition (applied before this migration on an existing database) stays.
-- Executable by app_admin only. Raises 0A000.
do $do$
begin
    if pg_catalog.to_regprocedure('core.link_identity(text, text, text)') is null then
        create function core.link_identity(p_provider text, p_subject text, p_email text)
        returns uuid
        language plpgsql
        security definer
        set search_path = ''
        as $$
        begin
            raise exception 'This database''s identity adapter does not link external identities (provider %)', p_provider
                using errcode = '0A000';
        end;
        $$;
        revoke all on function core.link_identity(text, text, text) from public, anon, authenticated, app_user;
        grant execute on function core.link_identity(text, text, text) to app_admin;
    end if;
end;
$do$;

-- ---------------------------------------------------------------------------------------------
-- Recording the caller
-- ---------------------------------------------------------------------------------------------
-- core.set_caller: makes the rest of the current transaction run as the caller. p_role: anon,
-- authenticated or service_role. p_user_id: the SMTA user id, or null; when p_link_subject is
-- set, core.link_identity(p_link_provider, p_link_subject, p_link_email) gives it instead
-- (called first, as the login role, before the role switch). p_claims: the claims JSON
-- (request.jwt.claims, PostgREST's convention). p_secrets_key: app.secrets_key, or null.
-- p_allow_anonymous_users: whether an anonymous sign-in may create organizations and become a
-- member (app.allow_anonymous_users).
-- Every setting is transaction-local: it ends with the transaction, committed or rolled back.
-- No SET clause: a function with one restores every setting on exit, which would undo them.
-- SECURITY INVOKER on purpose: the role switch succeeds only when the login role may already
-- become p_role; it grants nothing. Every name is schema-qualified.
-- Callers: the bridge's login role (app_admin). Raises 22023 for any other role name;
-- link_identity's errors pass through.
create or replace function core.set_caller(
    p_role text,
    p_user_id uuid,
    p_claims text,
    p_secrets_key text,
    p_link_provider text,
    p_link_subject text,
    p_link_email text,
    p_allow_anonymous_users boolean
)
returns void
language plpgsql
volatile
as $$
declare
    v_user_id text := p_user_id::text;
begin
    if p_role is null or p_role not in ('anon', 'authenticated', 'service_role') then
        raise exception 'The caller''s role must be anon, authenticated or service_role'
            using errcode = '22023';
    end if;
    if p_link_subject is not null then
        -- Through EXECUTE, so that this function loads before any adapter defines the hook.
        execute 'select core.link_identity($1, $2, $3)::text'
            into v_user_id
            using p_link_provider, p_link_subject, p_link_email;
    end if;
    perform pg_catalog.set_config('app.current_user_id', coalesce(v_user_id, ''), true),
            pg_catalog.set_config('request.jwt.claims', coalesce(p_claims, ''), true),
            pg_catalog.set_config('app.secrets_key', coalesce(p_secrets_key, ''), true),
            pg_catalog.set_config('app.allow_anonymous_users',
                case when p_allow_anonymous_users then 'on' else '' end, true),
            pg_catalog.set_config('role', p_role, true);
end
$$;

comment on function core.set_caller(text, uuid, text, text, text, text, text, boolean) is
    'SMTA: makes the rest of the transaction run as the caller (role and identity settings, transaction-local)';

revoke all on function core.set_caller(text, uuid, text, text, text, text, text, boolean)
    from public, anon, authenticated, service_role, app_user;
grant execute on function core.set_caller(text, uuid, text, text, text, text, text, boolean)
    to app_admin;

-- core.gate_call: runs p_statement as the caller and returns its single JSON value, in one
-- round trip (see 0025). The caller's parameters are core.set_caller's; p_statement is one
-- SELECT yielding one json column and at most one row, $1 is p_arguments. The 0025 signature
-- (without p_allow_anonymous_users) is dropped: only the bridge calls it.
-- Callers: the bridge's login role (app_admin). Raises what core.set_caller raises; the
-- statement's own errors pass through unchanged.
drop function core.gate_call(text, uuid, text, text, text, text, text, text, json);

create or replace function core.gate_call(
    p_role text,
    p_user_id uuid,
    p_claims text,
    p_secrets_key text,
    p_link_provider text,
    p_link_subject text,
    p_link_email text,
    p_allow_anonymous_users boolean,
    p_statement text,
    p_arguments json
)
returns json
language plpgsql
volatile
-- No SET clause, for the reason given at core.set_caller.
as $$
declare
    v_result json;
begin
    perform core.set_caller(p_role, p_user_id, p_claims, p_secrets_key,
                            p_link_provider, p_link_subject, p_link_email, p_allow_anonymous_users);
    execute p_statement into v_result using p_arguments;
    return v_result;
end
$$;

comment on function core.gate_call(text, uuid, text, text, text, text, text, boolean, text, json) is
    'SMTA: runs one bridge statement as the caller (core.set_caller, then the statement) in a single round trip';

revoke all on function core.gate_call(text, uuid, text, text, text, text, text, boolean, text, json)
    from public, anon, authenticated, service_role, app_user;
grant execute on function core.gate_call(text, uuid, text, text, text, text, text, boolean, text, json)
    to app_admin;

-- ---------------------------------------------------------------------------------------------
-- Anonymous sign-ins
-- ---------------------------------------------------------------------------------------------
-- core.is_anonymous(): whether the caller signed in anonymously: the is_anonymous claim of
-- request.jwt.claims (Supabase sets it on anonymous sign-ins; PostgREST and the bridge set the
-- claims). False without claims. Callable by everyone (policies may use it); raises nothing on
-- well-formed claims.
create or replace function core.is_anonymous()
returns boolean
language sql
stable
set search_path = ''
as $$
    select coalesce(
        (nullif(pg_catalog.current_setting('request.jwt.claims', true), '')::jsonb ->> 'is_anonymous') = 'true',
        false)
$$;

comment on function core.is_anonymous() is
    'SMTA: whether the caller signed in anonymously (the is_anonymous claim)';

grant execute on function core.is_anonymous() to public;

-- core.refuse_anonymous_tenant(): trigger refusing an anonymous caller's insert of an
-- organization or a membership, by any path, unless app.allow_anonymous_users is on for the
-- transaction. Another caller adding an anonymous user by id is not refused here (the caller
-- is not anonymous). Raises 42501.
create or replace function core.refuse_anonymous_tenant()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if core.is_anonymous()
       and pg_catalog.current_setting('app.allow_anonymous_users', true) is distinct from 'on' then
        raise exception 'Anonymous users cannot create organizations or join them: sign in with an email first'
            using errcode = '42501',
                  hint = 'Link an email or a provider to the anonymous account, or set allow_anonymous_users';
    end if;
    return new;
end;
$$;

revoke all on function core.refuse_anonymous_tenant() from public, anon, authenticated, app_user;

create trigger trg_organizations_refuse_anonymous before insert on core.organizations
for each row execute function core.refuse_anonymous_tenant();
create trigger trg_memberships_refuse_anonymous before insert on core.memberships
for each row execute function core.refuse_anonymous_tenant();
create trigger trg_unit_memberships_refuse_anonymous before insert on core.unit_memberships
for each row execute function core.refuse_anonymous_tenant();
