-- 0025_gate_call: one round trip for one gated call.
--
-- The bridge answers most requests with a single function call. Run as a transaction of its
-- own (BEGIN, the settings, the call, COMMIT), that costs four round trips, and the Swift
-- PostgreSQL client spends several times libpq's CPU per statement. core.gate_call does the same
-- work in one statement: it records who the caller is in transaction-local settings, switches to
-- the caller's role, then runs the bridge's statement and returns its JSON result.
--
-- Why this is as safe as the four-statement form:
-- * The call must be a statement of its own (an implicit transaction). Every setting it makes is
--   transaction-local, so all of them end with that statement, committed or rolled back.
-- * The role is switched before the statement is planned (it runs through EXECUTE), so its
--   privilege checks and row-level security see the caller, not the login role.
-- * It grants nothing: set_config('role', …) succeeds only when the login role may already
--   become that role, and only anon, authenticated and service_role are accepted.
-- * The statement text comes from the bridge, built from the catalog; clients send only the
--   JSON arguments, which the statement reads from $1.

-- core.gate_call: runs p_statement as the caller and returns its single JSON value.
-- p_role: anon, authenticated or service_role. p_user_id: the SMTA user id, or null; when
-- p_link_subject is set, core.link_identity(p_link_provider, p_link_subject, p_link_email) maps
-- it first (Payload's non-UUID ids; link_identity exists with the Payload adapter's SQL part).
-- p_claims: the request.jwt.claims JSON. p_secrets_key: app.secrets_key, or null.
-- p_statement: one SELECT yielding one json column and at most one row; $1 is p_arguments.
-- Callers: the bridge's login role (app_admin). Raises 22023 for any other role name; the
-- statement's own errors pass through unchanged.
create or replace function core.gate_call(
    p_role text,
    p_user_id uuid,
    p_claims text,
    p_secrets_key text,
    p_link_provider text,
    p_link_subject text,
    p_link_email text,
    p_statement text,
    p_arguments json
)
returns json
language plpgsql
volatile
-- No SET clause: a function with one restores every setting on exit, which would undo the role
-- switch before the caller's statement runs.
as $$
declare
    v_user_id text := p_user_id::text;
    v_result json;
begin
    if p_role is null or p_role not in ('anon', 'authenticated', 'service_role') then
        raise exception 'core.gate_call runs as anon, authenticated or service_role only'
            using errcode = '22023';
    end if;
    if p_link_subject is not null then
        -- As the login role, before the switch: link_identity is app_admin's.
        execute 'select core.link_identity($1, $2, $3)::text'
            into v_user_id
            using p_link_provider, p_link_subject, p_link_email;
    end if;
    perform pg_catalog.set_config('app.current_user_id', coalesce(v_user_id, ''), true),
            pg_catalog.set_config('request.jwt.claims', coalesce(p_claims, ''), true),
            pg_catalog.set_config('app.secrets_key', coalesce(p_secrets_key, ''), true),
            pg_catalog.set_config('role', p_role, true);
    execute p_statement into v_result using p_arguments;
    return v_result;
end
$$;

comment on function core.gate_call(text, uuid, text, text, text, text, text, text, json) is
    'SMTA: runs one bridge statement as the caller (role and identity settings, transaction-local) in a single round trip';

revoke all on function core.gate_call(text, uuid, text, text, text, text, text, text, json)
    from public, anon, authenticated, service_role, app_user;
grant execute on function core.gate_call(text, uuid, text, text, text, text, text, text, json)
    to app_admin;
