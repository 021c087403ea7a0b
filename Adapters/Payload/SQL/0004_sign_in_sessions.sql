-- 0004_sign_in_sessions: the first request of each Payload session, as every bridge sees it.
--
-- The bridge binds a Payload user to the memberships SCIM provisioned for their verified address
-- on the first request of each session (a Payload sign-in is a session in Payload's own store,
-- which the database never sees; Sources/SMTABridge/RPC/SignInBinding.swift). Which request is
-- the first must not depend on the bridge process it reached: remembered in each process's
-- memory, a session that bridge A had seen before an address was provisioned would be bound by
-- bridge B on its next request (B had never seen it) and not by A, so the same request would
-- answer differently on A and on B. The sessions seen are recorded here, for every bridge; a
-- process's memory only saves asking again.
--
-- A session is named by the SHA-256 (hex) of the identity's claims (subject, email, collection,
-- session id): no credential and no address is stored. Rows older than 30 days are forgotten,
-- as new rows are recorded; a session still in use after that is seen as a new sign-in.

create table platform.payload_sign_ins (
    session_digest text primary key
        constraint payload_sign_ins_session_digest_check check (session_digest ~ '^[0-9a-f]{64}$'),
    first_seen_at timestamptz not null default now()
);

comment on table platform.payload_sign_ins is
    'Payload sessions the bridge has seen (SHA-256 of the identity''s claims), so that each is bound to SCIM-provisioned memberships on its first request only, whichever bridge process serves it.';

create index idx_payload_sign_ins_first_seen_at on platform.payload_sign_ins (first_seen_at);

-- Row-level security enabled and forced, no policy: nobody reads or writes the record directly;
-- only the SECURITY DEFINER functions below (owned by the migrating role).
alter table platform.payload_sign_ins enable row level security;
alter table platform.payload_sign_ins force row level security;
revoke all on platform.payload_sign_ins from public, anon, authenticated, service_role, app_user, app_admin;

-- platform.record_payload_sign_in(p_session_digest): records the session as seen (once), and
-- forgets the sessions first seen more than 30 days ago.
-- Callers: the bridge (app_admin). Raises 23514 for a digest that is not 64 hex digits.
create or replace function platform.record_payload_sign_in(p_session_digest text)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
    insert into platform.payload_sign_ins (session_digest) values (p_session_digest)
    on conflict (session_digest) do nothing;
    delete from platform.payload_sign_ins where first_seen_at < pg_catalog.now() - interval '30 days';
$$;

revoke all on function platform.record_payload_sign_in(text) from public, anon, authenticated, app_user;
grant execute on function platform.record_payload_sign_in(text) to app_admin;

comment on function platform.record_payload_sign_in(text) is
    'SMTA (Payload): records a Payload session as seen by the bridge; forgets sessions seen more than 30 days ago';

-- platform.payload_sign_in_pending(p_session_digest, p_email): whether the bridge should bind the
-- session's user now. False when the session was seen already (by any bridge); else, when no
-- active SCIM user waits for the address (platform.scim_users_pending), records the session as
-- seen and returns false; else true, recording nothing: the bridge binds as the user, then
-- records the session (platform.record_payload_sign_in), so that a binding that got no answer is
-- tried again on the next request.
-- Callers: the bridge (app_admin). Raises 23514 for a digest that is not 64 hex digits.
create or replace function platform.payload_sign_in_pending(p_session_digest text, p_email text)
returns boolean
language plpgsql
volatile
security definer
set search_path = ''
as $$
begin
    if exists (select 1 from platform.payload_sign_ins where session_digest = p_session_digest) then
        return false;
    end if;
    if platform.scim_users_pending(p_email) then
        return true;
    end if;
    perform platform.record_payload_sign_in(p_session_digest);
    return false;
end
$$;

revoke all on function platform.payload_sign_in_pending(text, text) from public, anon, authenticated, app_user;
grant execute on function platform.payload_sign_in_pending(text, text) to app_admin;

comment on function platform.payload_sign_in_pending(text, text) is
    'SMTA (Payload): whether a Payload session seen for the first time by any bridge has SCIM-provisioned memberships to bind';
