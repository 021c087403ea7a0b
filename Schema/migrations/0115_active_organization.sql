-- 0115_active_organization: the bridge passes the request's active organization (its
-- X-SMTA-Organization header, or a token claim: README, "Serving") to the database with the
-- caller, as one more parameter of core.set_caller, core.gate_call and core.gate_call_once.
-- core.set_caller records it in the transaction-local setting app.current_organization_id,
-- which core.current_organization_id() reads (0111), so every membership helper answers for
-- that organization only; and it refuses a request whose caller is not a live member of it
-- (42501, which the bridge answers 403), so that naming a foreign organization is an error, not
-- an empty answer. Only a signed-in user has an active organization.
--
-- The three functions change signature: the old ones are dropped (the bridge of this version
-- sends the new ones; `smta migrate` runs before `smta serve`). Otherwise as in 0080, 0100 and
-- 0090.

drop function core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, text, json);
drop function core.gate_call(text, uuid, text, text, text, text, text, boolean, text, json);
drop function core.set_caller(text, uuid, text, text, text, text, text, boolean);

-- core.set_caller: makes the rest of the current transaction run as the caller (see 0070 for
-- the parameters), narrowed to p_organization_id when it is given. Every setting is
-- transaction-local. No SET clause and SECURITY INVOKER, for the reasons given in 0070.
-- Callers: the bridge's login role (app_admin). Raises 22023 for any other role name; 42501 when
-- an organization is given for a caller who is not a signed-in, live member of it;
-- link_identity's errors pass through.
create function core.set_caller(
    p_role text,
    p_user_id uuid,
    p_claims text,
    p_secrets_key text,
    p_link_provider text,
    p_link_subject text,
    p_link_email text,
    p_allow_anonymous_users boolean,
    p_organization_id uuid
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
        execute 'select core.link_identity($1, $2, core.recordable_email($3))::text'
            into v_user_id
            using p_link_provider, p_link_subject, p_link_email;
    end if;
    perform pg_catalog.set_config('app.current_user_id', coalesce(v_user_id, ''), true),
            pg_catalog.set_config('request.jwt.claims', coalesce(p_claims, ''), true),
            pg_catalog.set_config('app.secrets_key', coalesce(p_secrets_key, ''), true),
            pg_catalog.set_config('app.allow_anonymous_users',
                case when p_allow_anonymous_users then 'on' else '' end, true),
            pg_catalog.set_config('app.current_organization_id', coalesce(p_organization_id::text, ''), true);
    -- Checked as the login role, with the caller's settings in place: the caller's role may
    -- not even see schema core.
    if p_organization_id is not null
       and (p_role <> 'authenticated' or not core.is_org_member(p_organization_id)) then
        raise exception 'The active organization (X-SMTA-Organization) must be one you are a member of'
            using errcode = '42501';
    end if;
    perform pg_catalog.set_config('role', p_role, true);
end
$$;

comment on function core.set_caller(text, uuid, text, text, text, text, text, boolean, uuid) is
    'SMTA: makes the rest of the transaction run as the caller (role, identity and active organization, transaction-local)';

revoke all on function core.set_caller(text, uuid, text, text, text, text, text, boolean, uuid)
    from public, anon, authenticated, service_role, app_user;
grant execute on function core.set_caller(text, uuid, text, text, text, text, text, boolean, uuid)
    to app_admin;

-- core.gate_call: runs p_statement as the caller and returns its single JSON value, in one
-- round trip (0025, 0100), the caller recorded by core.set_caller with the active organization.
-- Callers: the bridge's login role (app_admin). Raises what core.set_caller raises; the
-- statement's own errors, and its deferred constraints' errors, pass through unchanged.
create function core.gate_call(
    p_role text,
    p_user_id uuid,
    p_claims text,
    p_secrets_key text,
    p_link_provider text,
    p_link_subject text,
    p_link_email text,
    p_allow_anonymous_users boolean,
    p_organization_id uuid,
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
    perform core.set_caller(p_role, p_user_id, p_claims, p_secrets_key, p_link_provider,
                            p_link_subject, p_link_email, p_allow_anonymous_users, p_organization_id);
    execute p_statement into v_result using p_arguments;
    if pg_catalog.pg_current_xact_id_if_assigned() is not null then
        set constraints all immediate;
    end if;
    return v_result;
end
$$;

comment on function core.gate_call(text, uuid, text, text, text, text, text, boolean, uuid, text, json) is
    'SMTA: the bridge''s gated call: records the caller (core.set_caller), runs one statement, returns its JSON';

revoke all on function core.gate_call(text, uuid, text, text, text, text, text, boolean, uuid, text, json)
    from public, anon, authenticated, service_role, app_user;
grant execute on function core.gate_call(text, uuid, text, text, text, text, text, boolean, uuid, text, json)
    to app_admin;

-- core.gate_call_once: core.gate_call under an Idempotency-Key (0090), with the active
-- organization. The key's scope stays the caller (role and user); the bridge's request hash
-- covers the active organization with the statement and arguments, so the same key sent for
-- another organization is refused as another request, never replayed.
-- Callers: the bridge's login role (app_admin). Raises what platform.claim_idempotency_key and
-- core.gate_call raise.
create function core.gate_call_once(
    p_idempotency_key text,
    p_request_hash text,
    p_window interval,
    p_role text,
    p_user_id uuid,
    p_claims text,
    p_secrets_key text,
    p_link_provider text,
    p_link_subject text,
    p_link_email text,
    p_allow_anonymous_users boolean,
    p_organization_id uuid,
    p_statement text,
    p_arguments json,
    out replayed boolean,
    out result json
)
language plpgsql
volatile
-- No SET clause, for the reason given at core.set_caller.
as $$
declare
    v_scope text := pg_catalog.concat_ws(':', p_role,
        coalesce(p_user_id::text, p_link_provider || '|' || p_link_subject, ''));
    v_recorded json;
begin
    select c.result into v_recorded
    from platform.claim_idempotency_key(v_scope, p_idempotency_key, p_request_hash, p_window) c;
    if found then
        replayed := true;
        result := v_recorded;
        return;
    end if;

    result := core.gate_call(p_role, p_user_id, p_claims, p_secrets_key, p_link_provider,
                             p_link_subject, p_link_email, p_allow_anonymous_users, p_organization_id,
                             p_statement, p_arguments);
    perform pg_catalog.set_config('role', 'none', true);
    perform platform.record_idempotent_result(v_scope, p_idempotency_key, result);
    replayed := false;
end
$$;

comment on function core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, uuid, text, json) is
    'SMTA: core.gate_call under an Idempotency-Key: applied at most once per caller and key, replayed after';

revoke all on function core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, uuid, text, json)
    from public, anon, authenticated, service_role, app_user;
grant execute on function core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, uuid, text, json)
    to app_admin;
