-- 0090_idempotent_calls: a write the bridge could not confirm can be retried safely.
--
-- When the connection to PostgreSQL breaks after a call was sent, the bridge cannot know whether
-- it committed: it answers 504 (outcome unknown), and a client that simply retried could apply
-- the write twice (two organizations, two invitations). A client that sends an Idempotency-Key
-- header instead gets each key applied at most once per caller: core.gate_call_once records the
-- key, the request's hash and the call's result in the same transaction as the call itself, so
-- the record exists exactly when the call committed. Sent again with the same key, the same
-- request is answered with the recorded result and runs nothing; a different request with the
-- same key is refused. A concurrent copy waits on the key's row until the first one commits or
-- rolls back, then replays or runs.

-- ---------------------------------------------------------------------------------------------
-- The record of idempotent calls
-- ---------------------------------------------------------------------------------------------
-- One row per (caller, key) while its window lasts. scope names the caller (role and user id or
-- linked subject, computed by core.gate_call_once from the caller's own parameters), so one
-- caller's key never answers another's call. Rows are only ever seen committed, and a committed
-- row always carries its call's result.
create table platform.idempotent_calls (
    scope text not null,
    key text not null
        constraint idempotent_calls_key_check check (pg_catalog.length(key) between 1 and 255),
    request_hash text not null,
    result json,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    constraint idempotent_calls_pkey primary key (scope, key)
);

comment on table platform.idempotent_calls is
    'Calls made through the bridge with an Idempotency-Key: the request''s hash and the committed result, per caller and key, until expires_at.';
comment on column platform.idempotent_calls.scope is
    'The caller: role, then the user id or the linked provider|subject.';
comment on column platform.idempotent_calls.request_hash is
    'SHA-256 (hex) of the request as the bridge resolved it: function, statement and arguments.';

create index idx_idempotent_calls_expires_at on platform.idempotent_calls (expires_at);

-- Row-level security enabled and forced, no policy: nobody reads or writes the record directly,
-- not even app_admin; only the SECURITY DEFINER functions below (owned by the migrating role).
alter table platform.idempotent_calls enable row level security;
alter table platform.idempotent_calls force row level security;
revoke all on platform.idempotent_calls from public, anon, authenticated, service_role, app_user, app_admin;

-- ---------------------------------------------------------------------------------------------
-- Claiming a key, recording its result, purging expired keys
-- ---------------------------------------------------------------------------------------------
-- platform.claim_idempotency_key: claims (p_scope, p_key) for the current transaction, or finds
-- the call already recorded under it. An expired record is dropped first. Returns no row when the
-- key is now this transaction's (run the call, then record it); one row (the recorded result)
-- when the same request already committed under the key. A concurrent claim of the same key
-- waits for the claiming transaction to end.
-- Callers: app_admin (core.gate_call_once). Raises PT422 when the key was used for another
-- request, 22023 for an empty or over-long key or a window outside 1 second to 30 days.
create or replace function platform.claim_idempotency_key(
    p_scope text,
    p_key text,
    p_request_hash text,
    p_window interval
)
returns table (result json)
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_claimed integer;
    v_recorded platform.idempotent_calls;
begin
    if p_key is null or pg_catalog.length(p_key) not between 1 and 255 then
        raise exception 'An Idempotency-Key must be 1 to 255 characters long' using errcode = '22023';
    end if;
    if p_window is null or p_window < interval '1 second' or p_window > interval '30 days' then
        raise exception 'The idempotency window must be between 1 second and 30 days' using errcode = '22023';
    end if;

    delete from platform.idempotent_calls
    where scope = p_scope and key = p_key and expires_at <= pg_catalog.now();

    insert into platform.idempotent_calls (scope, key, request_hash, expires_at)
    values (p_scope, p_key, p_request_hash, pg_catalog.now() + p_window)
    on conflict on constraint idempotent_calls_pkey do nothing;
    get diagnostics v_claimed = row_count;
    if v_claimed = 1 then
        return;
    end if;

    -- Committed by another transaction (the insert above waited for it).
    select * into strict v_recorded
    from platform.idempotent_calls
    where scope = p_scope and key = p_key;
    if v_recorded.request_hash is distinct from p_request_hash then
        raise exception 'This Idempotency-Key was already used for another request'
            using errcode = 'PT422',
                  hint = 'Use a new key for a new request; a key is remembered until its window ends.';
    end if;
    return query select v_recorded.result;
end
$$;

comment on function platform.claim_idempotency_key(text, text, text, interval) is
    'SMTA: claims an Idempotency-Key for the current transaction, or returns the result recorded under it';

revoke all on function platform.claim_idempotency_key(text, text, text, interval)
    from public, anon, authenticated, service_role, app_user;
grant execute on function platform.claim_idempotency_key(text, text, text, interval) to app_admin;

-- platform.record_idempotent_result: stores the result of the call made under a key this
-- transaction claimed. Callers: app_admin (core.gate_call_once). Raises P0002 when the key was
-- not claimed by this transaction's scope.
create or replace function platform.record_idempotent_result(p_scope text, p_key text, p_result json)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    update platform.idempotent_calls
    set result = p_result
    where scope = p_scope and key = p_key and result is null;
    if not found then
        raise exception 'No claimed Idempotency-Key to record' using errcode = 'P0002';
    end if;
end
$$;

comment on function platform.record_idempotent_result(text, text, json) is
    'SMTA: records the result of a call made under a claimed Idempotency-Key';

revoke all on function platform.record_idempotent_result(text, text, json)
    from public, anon, authenticated, service_role, app_user;
grant execute on function platform.record_idempotent_result(text, text, json) to app_admin;

-- platform.purge_idempotent_calls: deletes the records whose window has ended, at most
-- p_limit of them; returns how many. The bridge runs it in the background.
-- Callers: app_admin.
create or replace function platform.purge_idempotent_calls(p_limit integer default 10000)
returns integer
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
    v_deleted integer;
begin
    delete from platform.idempotent_calls
    where ctid = any (array(
        select ctid from platform.idempotent_calls
        where expires_at <= pg_catalog.now()
        order by expires_at
        limit greatest(coalesce(p_limit, 10000), 1)));
    get diagnostics v_deleted = row_count;
    return v_deleted;
end
$$;

comment on function platform.purge_idempotent_calls(integer) is
    'SMTA: deletes expired Idempotency-Key records (at most p_limit); returns how many';

revoke all on function platform.purge_idempotent_calls(integer)
    from public, anon, authenticated, service_role, app_user;
grant execute on function platform.purge_idempotent_calls(integer) to app_admin;

-- ---------------------------------------------------------------------------------------------
-- The idempotent gated call
-- ---------------------------------------------------------------------------------------------
-- core.gate_call_once: core.gate_call under an Idempotency-Key, in one statement. As the login
-- role it claims the key in the caller's scope; a request already committed under it returns its
-- recorded result with replayed = true and runs nothing. Otherwise it runs the call exactly as
-- core.gate_call does (the caller's role and settings), switches back to the login role
-- (set_config('role', 'none'): the session user, as RESET ROLE) and records the result. The
-- record commits or rolls back with the call: a call that fails leaves no record, and the key
-- may be used again.
-- Callers: the bridge's login role (app_admin). Raises what platform.claim_idempotency_key and
-- core.gate_call raise.
create or replace function core.gate_call_once(
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
                             p_link_subject, p_link_email, p_allow_anonymous_users,
                             p_statement, p_arguments);
    perform pg_catalog.set_config('role', 'none', true);
    perform platform.record_idempotent_result(v_scope, p_idempotency_key, result);
    replayed := false;
end
$$;

comment on function core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, text, json) is
    'SMTA: core.gate_call under an Idempotency-Key: applied at most once per caller and key, replayed after';

revoke all on function core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, text, json)
    from public, anon, authenticated, service_role, app_user;
grant execute on function core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, text, json)
    to app_admin;

-- ---------------------------------------------------------------------------------------------
-- Deferred checks inside the call
-- ---------------------------------------------------------------------------------------------
-- core.gate_call again, with one line more: SET CONSTRAINTS ALL IMMEDIATE after the statement.
-- A one-statement call commits at the protocol's Sync, after its rows and CommandComplete have
-- been written: a deferred constraint trigger failing there (core.check_org_keeps_super_admin)
-- rolled the call back after the client library had already taken the rows for a success. Run
-- within the statement, its error is the call's error. Otherwise as in 0070.
-- Callers: the bridge's login role (app_admin). Raises what core.set_caller raises; the
-- statement's own errors, and its deferred constraints' errors, pass through unchanged.
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
    set constraints all immediate;
    return v_result;
end
$$;
