-- 0118_scim_provisioning: what an organization's identity provider (Okta, Microsoft Entra ID,
-- Google) provisions through the bridge's SCIM 2.0 endpoints (issue 18): its Users and Groups,
-- and what they mean in SMTA. The bridge authenticates each request with
-- platform.authenticate_scim_token (0117) and then calls the platform.scim_* functions below with
-- the token's id; everything else — which organization, whether the token still counts, what
-- may change — is decided here.
--
-- The mapping:
--   * a SCIM User is a core.scim_users row of the token's organization: the identity provider's
--     record of a person (userName, externalId, names, work email, active, role). Its email is
--     what binds it to an SMTA user: once bound (user_id set), an active SCIM user holds a live
--     membership of the organization with the SCIM role; before that it is pending;
--   * a pending SCIM user binds — with no invitation step — to the SMTA user whose email the
--     platform has VERIFIED to be that address, and only with that person's consent unless the
--     address is the organization's own. Automatically, when the address's domain is one of
--     the organization's VERIFIED domains (core.organization_domains, 0114: exactly that
--     domain): at once when the provisioning names an address the database already knows
--     verified (core.find_verified_user, which each adapter defines), else when that user signs
--     in (the adapters' triggers; under Payload, which has none, the bridge's
--     claim_provisioned_memberships(p_within_verified_domains => true)). Any other address
--     stays pending until the person consents by calling public.claim_provisioned_memberships()
--     themself (public.list_provisioned_memberships shows them what is waiting). Otherwise a
--     super_admin could provision victim@gmail.com and silently make another customer of the
--     platform a member (their profile shown to the organization, their account's existence
--     revealed): invitations need acceptance and domain joins the user's own call, and SCIM is
--     no path around that. An identity provider provisioning its own company's addresses, SCIM's
--     real use, proves the company's hold on them by the domain's DNS verification;
--   * active = false, or DELETE, ends the membership at once (soft delete, with the user's unit
--     memberships, as remove_member_from_organization does): the gate sees it on the next
--     statement. Re-activation restores it, with the unit memberships of its groups, and must
--     fit the seat limit again;
--   * a SCIM Group is a unit of the organization that SCIM created (core.scim_groups marks it;
--     its id is the unit's id, its displayName the unit's name). Its members, as the identity
--     provider states them (pending users included), are core.scim_group_members; bound, active
--     members are mirrored as unit memberships with the team role. Units the organization made
--     itself are not SCIM groups: SCIM neither sees nor changes them.
--
-- The rules:
--   * a token acts for its own organization only: an id of another organization's user or
--     group answers exactly as an unknown id (P0002). Every function re-checks that the token is
--     live (not revoked, its organization not deleted) and holds it (FOR KEY SHARE) until the
--     transaction ends, so that a revocation waits for calls in flight and nothing happens
--     after it;
--   * a provisioned role never exceeds manager (core.role_rank, 0116): manager, team or one of
--     the organization's own roles; team unless said otherwise (as organization domains give);
--   * the super_admin (owner) is never provisioned, changed, deactivated or removed by SCIM: a
--     SCIM user whose email the database knows verified as the owner's is refused (42501), a
--     pending one is never bound to the owner, and a SCIM user bound to someone who later became
--     the owner (transfer_super_admin) is refused every change (42501);
--   * the seat limit holds: an active pending SCIM user holds a seat like a member does
--     (core.seats_taken counts both), so an identity provider cannot provision more people than
--     seats and have them bind later; binding turns the reservation into the membership without
--     counting twice (the SCIM row is bound before the membership is written);
--   * every change is in the audit log with the token as the actor (actor_id = the token's id,
--     metadata.actor = {"kind": "scim_token", "token_id", "label"}); see core.scim_request_actors
--     for why no tenant can forge that;
--   * the tables are written only by these functions (RLS forced, no policy and no privilege
--     for tenants); tenants see provisioned people as the members they become.
--
-- Decided here where SCIM leaves it open:
--   * userName is unique per organization case-insensitively (RFC 7643 §4.1.1 makes it
--     case-insensitive); externalId case-exactly; the email too, lowercased (two SCIM users with
--     one address would bind to the same person);
--   * once bound, a SCIM user stays bound to that SMTA user: a later email change is recorded,
--     not re-bound (a directory renaming an address does not hand the seat to someone else);
--   * an existing member the identity provider provisions is adopted when the SCIM user binds
--     (automatically in a verified domain, else by their claim, as for anyone): their
--     membership takes the SCIM role, and loses any expiry (the identity provider governs it
--     from then on);
--   * a member the organization removed through the API stays removed until the identity
--     provider changes the SCIM user's active state or role (then the SCIM state is applied);
--   * SCIM memberships are consented (core.memberships.consented_at): either the address is in
--     a domain the organization verified, named by its own directory, or its holder claimed it;
--   * the version (ETag) grows with every change of the resource; a Group's with every change of
--     its name, externalId or members.

-- =============================================================================================
-- The tables
-- =============================================================================================
create table core.scim_users (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references core.organizations (id) on delete cascade,
    user_name text not null constraint scim_users_user_name_length
        check (pg_catalog.char_length(user_name) between 1 and 256 and pg_catalog.btrim(user_name) <> ''),
    external_id text constraint scim_users_external_id_length check (pg_catalog.char_length(external_id) between 1 and 256),
    display_name text constraint scim_users_display_name_length check (pg_catalog.char_length(display_name) <= 256),
    given_name text constraint scim_users_given_name_length check (pg_catalog.char_length(given_name) <= 255),
    family_name text constraint scim_users_family_name_length check (pg_catalog.char_length(family_name) <= 255),
    -- lowercase; what binds the SCIM user to an SMTA user with that verified email
    email text constraint scim_users_email_format
        check (email = pg_catalog.lower(email) and pg_catalog.char_length(email) <= 320
               and email ~ '^[^[:space:]@]+@[^[:space:]@]+\.[^[:space:]@]+$'),
    active boolean not null default true,
    role_id uuid not null references core.roles (id),
    -- the SMTA user it is bound to; null while pending
    user_id uuid,
    version integer not null default 1,
    created_by_token uuid references core.scim_tokens (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    -- the target of core.scim_group_members' composite key
    constraint scim_users_id_organization_id_key unique (id, organization_id)
);

create unique index scim_users_user_name_key on core.scim_users (organization_id, pg_catalog.lower(user_name));
create unique index scim_users_external_id_key on core.scim_users (organization_id, external_id)
    where external_id is not null;
create unique index scim_users_email_key on core.scim_users (organization_id, email) where email is not null;
-- one SCIM user per SMTA user and organization
create unique index scim_users_user_id_key on core.scim_users (organization_id, user_id) where user_id is not null;
-- pending users by address: what binding looks up at sign-in
create index idx_scim_users_pending_email on core.scim_users (email) where user_id is null;
create index idx_scim_users_listing on core.scim_users (organization_id, created_at, id);
create index idx_scim_users_role_id on core.scim_users (role_id);

comment on table core.scim_users is
    'SMTA: people an organization''s identity provider provisions through SCIM; bound to an SMTA user by verified email; written only by the SCIM functions';

create table core.scim_groups (
    unit_id uuid primary key,
    organization_id uuid not null,
    external_id text constraint scim_groups_external_id_length check (pg_catalog.char_length(external_id) between 1 and 256),
    version integer not null default 1,
    created_by_token uuid references core.scim_tokens (id) on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint scim_groups_unit_id_fkey foreign key (unit_id, organization_id)
        references core.units (id, organization_id) on delete cascade,
    -- the target of core.scim_group_members' composite key
    constraint scim_groups_unit_id_organization_id_key unique (unit_id, organization_id)
);

create unique index scim_groups_external_id_key on core.scim_groups (organization_id, external_id)
    where external_id is not null;
create index idx_scim_groups_listing on core.scim_groups (organization_id, created_at, unit_id);

comment on table core.scim_groups is
    'SMTA: the units an organization''s identity provider created and manages as SCIM Groups; written only by the SCIM functions';

-- Both keys carry the organization: a group's member is always a SCIM user of the same
-- organization, whatever writes the row.
create table core.scim_group_members (
    unit_id uuid not null,
    scim_user_id uuid not null,
    organization_id uuid not null,
    created_at timestamptz not null default now(),
    constraint scim_group_members_pkey primary key (unit_id, scim_user_id),
    constraint scim_group_members_group_fkey foreign key (unit_id, organization_id)
        references core.scim_groups (unit_id, organization_id) on delete cascade,
    constraint scim_group_members_user_fkey foreign key (scim_user_id, organization_id)
        references core.scim_users (id, organization_id) on delete cascade
);

create index idx_scim_group_members_scim_user_id on core.scim_group_members (scim_user_id);

comment on table core.scim_group_members is
    'SMTA: SCIM group membership as the identity provider states it (pending users too); written only by the SCIM functions';

do $$
declare
    v_table regclass;
begin
    foreach v_table in array array['core.scim_users', 'core.scim_groups', 'core.scim_group_members']::regclass[] loop
        execute format('alter table %s enable row level security', v_table);
        execute format('alter table %s force row level security', v_table);
        -- No policy for app_user and no privilege: the functions below are the only path for tenants.
        execute format('revoke all on %s from public, anon, authenticated, app_user', v_table);
        execute format('grant select, insert, update, delete on %s to app_admin', v_table);
    end loop;
end
$$;

create trigger trg_scim_users_updated before update on core.scim_users
    for each row execute function utils.update_timestamp();
create trigger trg_scim_users_tenant_keys before update on core.scim_users
    for each row execute function core.forbid_tenant_key_change('organization_id', 'created_by_token');
create trigger trg_scim_users_role_scope before insert or update of role_id on core.scim_users
    for each row execute function core.check_role_scope();
create trigger trg_scim_users_audit after insert or update or delete on core.scim_users
    for each row execute function core.audit_row_change('organization_id', '');

create trigger trg_scim_groups_updated before update on core.scim_groups
    for each row execute function utils.update_timestamp();
create trigger trg_scim_groups_tenant_keys before update on core.scim_groups
    for each row execute function core.forbid_tenant_key_change('organization_id', 'created_by_token');
create trigger trg_scim_groups_audit after insert or update or delete on core.scim_groups
    for each row execute function core.audit_row_change('organization_id', '');

create trigger trg_scim_group_members_tenant_keys before update on core.scim_group_members
    for each row execute function core.forbid_tenant_key_change('organization_id', 'unit_id', 'scim_user_id');
create trigger trg_scim_group_members_audit after insert or update or delete on core.scim_group_members
    for each row execute function core.audit_row_change('organization_id', '');

-- core.bump_scim_version(): BEFORE UPDATE on core.scim_users: the version (the bridge's ETag)
-- grows by one when anything of the SCIM resource changes (binding, a fact of SMTA's, does not
-- change the resource). Applies to everyone. Raises nothing.
create or replace function core.bump_scim_version()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if (pg_catalog.to_jsonb(new) - array['updated_at', 'version', 'user_id'])
       is distinct from (pg_catalog.to_jsonb(old) - array['updated_at', 'version', 'user_id']) then
        new.version := old.version + 1;
    else
        new.version := old.version;
    end if;
    return new;
end
$$;

revoke all on function core.bump_scim_version() from public, anon, authenticated, app_user;

create trigger trg_scim_users_version before update on core.scim_users
    for each row execute function core.bump_scim_version();

-- =============================================================================================
-- The token as the actor of the audit log
-- =============================================================================================
-- core.scim_request_actors: the SCIM token acting in a transaction, keyed by the transaction's
-- id. core.scim_begin writes the row (after checking the token) at the start of every
-- platform.scim_* write and core.scim_end removes it at its end; core.audit_row_change reads it
-- and records the token as the actor of every row change made meanwhile.
--
-- Why a tenant cannot forge it: a setting would not do — any client can set_config anything
-- in its own transaction. Nobody but the owner (the SCIM functions, SECURITY DEFINER) can write
-- this table: no privilege for any role, app_admin included, and RLS forced with no policy. A
-- tenant's transaction has its own id (pg_current_xact_id is 64 bits with the epoch: never
-- reused), so it can never find a row there; a row cannot outlive the call that wrote it (the
-- call removes it, and if the call fails, its rollback does). The setting smta.scim_token that
-- core.scim_begin also sets is only a hint that spares every other transaction the lookup: a
-- tenant who sets it gets a lookup that finds nothing.
--
-- UNLOGGED: its rows live for one call, so they need no WAL (a crash ends those transactions
-- anyway, and empties the table).
create unlogged table core.scim_request_actors (
    xact_id xid8 primary key,
    token_id uuid not null,
    organization_id uuid not null,
    label text not null
);

comment on table core.scim_request_actors is
    'SMTA: the SCIM token acting in a running transaction (the actor of its audit rows); written only by the SCIM functions';

alter table core.scim_request_actors enable row level security;
alter table core.scim_request_actors force row level security;
revoke all on core.scim_request_actors from public, anon, authenticated, app_user, app_admin;

-- core.audit_row_change() (0004), with the SCIM token as the actor: when a SCIM function is
-- running in this transaction (core.scim_request_actors), actor_id is the token's id and
-- metadata.actor says so ({"kind": "scim_token", "token_id", "label"}). Otherwise unchanged:
-- one core.audit_logs row per change, in the same transaction; trigger arguments 1. the column
-- holding the row's organization id ('' if none), 2. else a column holding a unit id whose
-- organization is used ('' if none), 3+. columns never to copy into the log; actor_id =
-- core.get_current_user_id(); action insert | update | delete | soft_delete | restore; the new
-- row, the old row or the changed columns; updates that change nothing but
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
    v_actor_id uuid := core.get_current_user_id();
    v_scim_actor record;
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

    -- The SCIM token as the actor: the setting is only a hint (see core.scim_request_actors);
    -- the row keyed by this transaction's id is the proof.
    if pg_catalog.current_setting('smta.scim_token', true) <> '' then
        select a.token_id, a.label into v_scim_actor
        from core.scim_request_actors as a
        where a.xact_id = pg_catalog.pg_current_xact_id_if_assigned();
        if found then
            v_actor_id := v_scim_actor.token_id;
            v_metadata := v_metadata || pg_catalog.jsonb_build_object('actor', pg_catalog.jsonb_build_object(
                'kind', 'scim_token', 'token_id', v_scim_actor.token_id, 'label', v_scim_actor.label));
        end if;
    end if;

    insert into core.audit_logs (actor_id, organization_id, target_table, target_id, action, summary, metadata)
    values (v_actor_id, v_org_id, v_table, v_target_id, v_action, v_summary, v_metadata);
    return null;
end
$$;

revoke all on function core.audit_row_change() from public;

-- core.scim_begin(p_token_id): the live SCIM token with that id, held (FOR KEY SHARE) until the
-- transaction ends, recorded as the actor of this transaction's changes (see
-- core.scim_request_actors). Called first by every platform.scim_* write. Internal. Raises
-- 28000 when the token is unknown, revoked, or its organization deleted.
create or replace function core.scim_begin(p_token_id uuid)
returns core.scim_tokens
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens;
begin
    select t.* into v_token
    from core.scim_tokens as t
    join core.organizations as o on o.id = t.organization_id and not o.is_deleted
    where t.id = p_token_id
      and t.revoked_at is null
    -- KEY SHARE: revoke_scim_token's FOR UPDATE waits for this call; authenticate_scim_token's
    -- update of last_used_at (no key column) does not
    for key share of t;
    if not found then
        raise exception 'The SCIM token is revoked or unknown'
            using errcode = '28000';
    end if;
    insert into core.scim_request_actors as a (xact_id, token_id, organization_id, label)
    values (pg_catalog.pg_current_xact_id(), v_token.id, v_token.organization_id, v_token.label)
    on conflict (xact_id) do update
    set token_id = excluded.token_id, organization_id = excluded.organization_id, label = excluded.label;
    perform pg_catalog.set_config('smta.scim_token', v_token.id::text, true);
    return v_token;
end
$$;

revoke all on function core.scim_begin(uuid) from public, anon, authenticated, app_user;

-- core.scim_end(): the end of a platform.scim_* write: the token stops being this transaction's
-- actor. Internal. Raises nothing.
create or replace function core.scim_end()
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    delete from core.scim_request_actors as a where a.xact_id = pg_catalog.pg_current_xact_id();
    perform pg_catalog.set_config('smta.scim_token', '', true);
end
$$;

revoke all on function core.scim_end() from public, anon, authenticated, app_user;

-- core.scim_token_organization(p_token_id): the organization of a live SCIM token, for the
-- reads (which change nothing, so record no actor). Internal. Raises 28000 when the token is
-- unknown, revoked, or its organization deleted.
create or replace function core.scim_token_organization(p_token_id uuid)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_org_id uuid;
begin
    select t.organization_id into v_org_id
    from core.scim_tokens as t
    join core.organizations as o on o.id = t.organization_id and not o.is_deleted
    where t.id = p_token_id
      and t.revoked_at is null;
    if v_org_id is null then
        raise exception 'The SCIM token is revoked or unknown'
            using errcode = '28000';
    end if;
    return v_org_id;
end
$$;

revoke all on function core.scim_token_organization(uuid) from public, anon, authenticated, app_user;

-- =============================================================================================
-- Seats
-- =============================================================================================

-- core.seats_taken(p_org_id): the organization's seats in use: its live, unexpired memberships
-- and its active SCIM users still pending (a reservation for someone who will bind). Internal.
-- Raises nothing.
create or replace function core.seats_taken(p_org_id uuid)
returns bigint
language sql
stable
set search_path = ''
as $$
    select (select pg_catalog.count(*) from core.memberships as m
            where m.organization_id = p_org_id
              and not m.is_deleted
              and (m.expires_at is null or m.expires_at > pg_catalog.now()))
         + (select pg_catalog.count(*) from core.scim_users as s
            where s.organization_id = p_org_id
              and s.active
              and s.user_id is null);
$$;

revoke all on function core.seats_taken(uuid) from public, anon, authenticated, app_user;

-- core.check_seat_limit (0111), counting pending SCIM users: raises when the seats in use
-- (core.seats_taken) already fill the organization's seat limit. Serializes the organization's
-- seat writers with an advisory lock. Internal. Raises P0001.
create or replace function core.check_seat_limit(p_org_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_limit integer := platform.organization_member_limit(p_org_id);
begin
    if v_limit is null then
        return;
    end if;

    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('core.memberships:seats:' || p_org_id::text, 0));

    if core.seats_taken(p_org_id) >= v_limit then
        raise exception 'The organization has reached its seat limit of % members', v_limit
            using errcode = 'P0001';
    end if;
end;
$$;

-- core.enforce_membership_seat_limit() (0111), counting pending SCIM users: AFTER INSERT OR
-- UPDATE OF is_deleted, expires_at on core.memberships: a membership that starts counting must
-- fit the seat limit, counting itself. A SCIM user being bound is bound before its membership
-- is written, so its reservation is not counted with it. Writers are serialized by the
-- advisory lock of core.check_seat_limit while they count. Internal (trigger). Raises P0001
-- when the organization is over its limit.
create or replace function core.enforce_membership_seat_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_limit integer;
begin
    if new.is_deleted or new.expires_at <= pg_catalog.now() then
        return null;
    end if;
    if tg_op = 'UPDATE' and not old.is_deleted
       and (old.expires_at is null or old.expires_at > pg_catalog.now()) then
        return null; -- it counted already
    end if;

    v_limit := platform.organization_member_limit(new.organization_id);
    if v_limit is null then
        return null;
    end if;

    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('core.memberships:seats:' || new.organization_id::text, 0));

    if core.seats_taken(new.organization_id) > v_limit then
        raise exception 'The organization has reached its seat limit of % members', v_limit
            using errcode = 'P0001';
    end if;
    return null;
end;
$$;

-- core.enforce_scim_seat_limit(): AFTER INSERT OR UPDATE OF active, user_id on core.scim_users:
-- a SCIM user that starts holding a seat while pending (created active, or re-activated) must
-- fit the seat limit, counting itself; same lock, same count, same error as a membership.
-- Internal (trigger). Raises P0001 when the organization is over its limit.
create or replace function core.enforce_scim_seat_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_limit integer;
begin
    if not new.active or new.user_id is not null then
        return null;
    end if;
    if tg_op = 'UPDATE' and old.active and old.user_id is null then
        return null; -- it counted already
    end if;

    v_limit := platform.organization_member_limit(new.organization_id);
    if v_limit is null then
        return null;
    end if;

    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('core.memberships:seats:' || new.organization_id::text, 0));

    if core.seats_taken(new.organization_id) > v_limit then
        raise exception 'The organization has reached its seat limit of % members', v_limit
            using errcode = 'P0001';
    end if;
    return null;
end;
$$;

revoke all on function core.enforce_scim_seat_limit() from public, anon, authenticated, app_user;

create trigger trg_scim_users_seat_limit after insert or update of active, user_id on core.scim_users
    for each row execute function core.enforce_scim_seat_limit();

-- =============================================================================================
-- Binding and membership
-- =============================================================================================

-- core.find_verified_user(p_email): the SMTA user whose email the platform has verified to be
-- exactly this (lowercase) address, when the database can tell; null when it cannot, or when
-- more than one user has it. The default tells nothing: each adapter that can see verified
-- emails replaces it (Adapters/*/SQL/0004_scim_binding.sql); the others bind at sign-in only.
-- Internal. Raises nothing.
create or replace function core.find_verified_user(p_email text)
returns uuid
language sql
stable
set search_path = ''
as $$
    select null::uuid;
$$;

revoke all on function core.find_verified_user(text) from public, anon, authenticated, app_user;

-- core.is_owner_of(p_org_id, p_user_id): does the user hold the organization's live
-- super_admin membership? Internal. Raises nothing.
create or replace function core.is_owner_of(p_org_id uuid, p_user_id uuid)
returns boolean
language sql
stable
set search_path = ''
as $$
    select exists (
        select 1 from core.memberships as m
        where m.organization_id = p_org_id
          and m.user_id = p_user_id
          and m.is_super_admin
          and not m.is_deleted
    );
$$;

revoke all on function core.is_owner_of(uuid, uuid) from public, anon, authenticated, app_user;

-- core.scim_put_unit_member(p_user_id, p_unit_id, p_actor): makes a bound, active SCIM user a
-- member of a SCIM group's unit with the team role, unless they already hold a live, unexpired
-- membership of it (whose role is left as it is). Internal. Raises nothing of its own.
create or replace function core.scim_put_unit_member(p_user_id uuid, p_unit_id uuid, p_actor uuid)
returns void
language plpgsql
set search_path = ''
as $$
begin
    if exists (
        select 1 from core.unit_memberships as um
        where um.user_id = p_user_id
          and um.unit_id = p_unit_id
          and not um.is_deleted
          and (um.expires_at is null or um.expires_at > pg_catalog.now())
    ) then
        return;
    end if;
    perform core.put_unit_membership(p_user_id, p_unit_id,
        (select r.id from core.roles as r where r.name = 'team' and r.organization_id is null), p_actor);
end
$$;

revoke all on function core.scim_put_unit_member(uuid, uuid, uuid) from public, anon, authenticated, app_user;

-- core.scim_drop_unit_member(p_user_id, p_unit_id, p_actor): ends a user's live unit
-- membership of a SCIM group's unit (soft delete). Internal. Raises nothing.
create or replace function core.scim_drop_unit_member(p_user_id uuid, p_unit_id uuid, p_actor uuid)
returns void
language sql
set search_path = ''
as $$
    update core.unit_memberships as um
    set is_deleted = true, deleted_at = pg_catalog.now(), deleted_by = p_actor, updated_by = p_actor
    where um.user_id = p_user_id
      and um.unit_id = p_unit_id
      and not um.is_deleted;
$$;

revoke all on function core.scim_drop_unit_member(uuid, uuid, uuid) from public, anon, authenticated, app_user;

-- core.scim_sync_membership(p_scim, p_actor): makes the memberships of a bound SCIM user what
-- its row says. Active: a live membership with the SCIM role and no expiry (inserted, revived
-- or adopted; it must fit the seat limit when it starts counting), and a unit membership of
-- each of its live groups. Inactive: the membership and every unit membership of the
-- organization end (soft delete, as remove_member_from_organization does). Pending: nothing.
-- Internal. Raises 42501 when the user is the organization's super_admin; P0001 when the
-- organization has no free seat.
create or replace function core.scim_sync_membership(p_scim core.scim_users, p_actor uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
    v_membership core.memberships;
    v_unit_id uuid;
begin
    if p_scim.user_id is null then
        return;
    end if;

    select m.* into v_membership
    from core.memberships as m
    where m.user_id = p_scim.user_id
      and m.organization_id = p_scim.organization_id
    for update;

    if v_membership.is_super_admin and not v_membership.is_deleted then
        raise exception 'The organization''s super_admin is never provisioned by SCIM'
            using errcode = '42501';
    end if;

    if not p_scim.active then
        if v_membership.id is not null and not v_membership.is_deleted then
            perform core.soft_delete_membership(p_scim.organization_id, p_scim.user_id, p_actor);
        end if;
        return;
    end if;

    if v_membership.id is null then
        insert into core.memberships (user_id, organization_id, role_id, is_super_admin, consented_at, created_by, updated_by)
        values (p_scim.user_id, p_scim.organization_id, p_scim.role_id, false, pg_catalog.now(), p_actor, p_actor);
    elsif v_membership.is_deleted or v_membership.role_id <> p_scim.role_id or v_membership.expires_at is not null then
        update core.memberships as m
        set role_id = p_scim.role_id,
            is_deleted = false,
            deleted_at = null,
            deleted_by = null,
            expires_at = null,
            consented_at = coalesce(m.consented_at, pg_catalog.now()),
            updated_by = p_actor
        where m.id = v_membership.id;
    end if;

    for v_unit_id in
        select gm.unit_id
        from core.scim_group_members as gm
        join core.units as u on u.id = gm.unit_id and not u.is_deleted
        where gm.scim_user_id = p_scim.id
        order by gm.unit_id
    loop
        perform core.scim_put_unit_member(p_scim.user_id, v_unit_id, p_actor);
    end loop;
end
$$;

revoke all on function core.scim_sync_membership(core.scim_users, uuid) from public, anon, authenticated, app_user;

-- core.scim_binds_automatically(p_org_id, p_email): may a pending SCIM user of the
-- organization with this (lowercase) address bind without its holder's consent? Only when the
-- address's domain is exactly one of the organization's verified domains
-- (core.organization_domains with verified_at set; a pending claim does not count, a subdomain
-- is another domain): the company's own addresses, the domain proven its by DNS. Internal.
-- Raises nothing.
create or replace function core.scim_binds_automatically(p_org_id uuid, p_email text)
returns boolean
language sql
stable
set search_path = ''
as $$
    select exists (
        select 1 from core.organization_domains as d
        where d.organization_id = p_org_id
          and d.verified_at is not null
          and d.domain = pg_catalog.split_part(pg_catalog.lower(p_email), '@', 2)
    );
$$;

revoke all on function core.scim_binds_automatically(uuid, text) from public, anon, authenticated, app_user;

-- core.bind_scim_users(p_user_id, p_verified_email, p_consented): binds the pending SCIM users
-- of live organizations whose email is this address to the SMTA user p_user_id, and gives the
-- active ones their membership (and unit memberships); returns the organizations joined. The
-- caller vouches that the platform verified the address for that user: only the adapters'
-- sign-in paths and public.claim_provisioned_memberships call it. p_consented: true only when
-- the user asked for it themself (claim_provisioned_memberships()): every pending SCIM user of
-- the address binds; false (the adapters' triggers, the bridge's binding at a Payload sign-in)
-- binds only those in one of their organization's verified domains
-- (core.scim_binds_automatically), the rest waiting for the user's claim. Skipped, left
-- pending: an organization whose super_admin the user is, one where another SCIM user is
-- already bound to them, and one where binding is refused (no free seat any more: a plan that
-- shrank). Internal. Raises nothing of its own.
create or replace function core.bind_scim_users(p_user_id uuid, p_verified_email text, p_consented boolean)
returns setof uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email constant text := nullif(pg_catalog.lower(pg_catalog.btrim(p_verified_email)), '');
    v_scim core.scim_users;
begin
    if p_user_id is null or v_email is null then
        return;
    end if;

    for v_scim in
        select s.*
        from core.scim_users as s
        join core.organizations as o on o.id = s.organization_id and not o.is_deleted
        where s.email = v_email
          and s.user_id is null
          and (p_consented is true or core.scim_binds_automatically(s.organization_id, s.email))
        order by s.organization_id
        for update of s
    loop
        continue when core.is_owner_of(v_scim.organization_id, p_user_id);
        continue when exists (
            select 1 from core.scim_users as other
            where other.organization_id = v_scim.organization_id
              and other.user_id = p_user_id
        );
        begin
            -- Bound first: the membership below then takes the seat the row reserved.
            update core.scim_users as s
            set user_id = p_user_id
            where s.id = v_scim.id
            returning s.* into v_scim;
            perform core.scim_sync_membership(v_scim, p_user_id);
            if v_scim.active then
                return next v_scim.organization_id;
            end if;
        exception
            when sqlstate 'P0001' or sqlstate '23505' or sqlstate '42501' then
                null; -- left pending; a later sign-in or claim tries again
        end;
    end loop;
end
$$;

revoke all on function core.bind_scim_users(uuid, text, boolean) from public, anon, authenticated, app_user;

-- core.bind_scim_users_of_verified_domain(): AFTER INSERT OR UPDATE OF verified_at on
-- core.organization_domains: when an organization verifies a domain (usually after its
-- identity provider has provisioned its people), its pending SCIM users at that domain bind now
-- to the users the database knows verified there (core.find_verified_user: Supabase's
-- confirmed auth.users, OIDC's issuer-verified links), rather than at their next sign-in or
-- never (an OIDC link is written once). Under Payload the database knows nobody: they bind at
-- their next session. A binding that fails leaves them pending and never fails the
-- verification. Internal (trigger). Raises nothing of its own.
create or replace function core.bind_scim_users_of_verified_domain()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email text;
    v_user_id uuid;
begin
    if new.verified_at is null or (tg_op = 'UPDATE' and old.verified_at is not null) then
        return null;
    end if;
    for v_email in
        select s.email
        from core.scim_users as s
        where s.organization_id = new.organization_id
          and s.user_id is null
          and pg_catalog.split_part(s.email, '@', 2) = new.domain
        order by s.email
    loop
        begin
            v_user_id := core.find_verified_user(v_email);
            if v_user_id is not null then
                perform core.bind_scim_users(v_user_id, v_email, false);
            end if;
        exception
            when others then
                raise warning 'SMTA: binding the SCIM users of % on the verification of % failed: %',
                    v_email, new.domain, sqlerrm;
        end;
    end loop;
    return null;
end
$$;

revoke all on function core.bind_scim_users_of_verified_domain() from public, anon, authenticated, app_user;

create trigger trg_organization_domains_scim_binding after insert or update of verified_at on core.organization_domains
    for each row execute function core.bind_scim_users_of_verified_domain();

-- public.claim_provisioned_memberships(p_within_verified_domains default false): binds the
-- signed-in caller to the SCIM users provisioned for their verified email
-- (core.current_user_verified_email) and returns the organizations they joined. Nothing for an
-- email the adapter cannot show verified. Two uses:
--   * the user's consent (p_within_verified_domains false, the default): an app calls it when
--     the user accepts what public.list_provisioned_memberships showed them; every pending SCIM
--     user of their address binds, in a verified domain or not;
--   * automatic binding at sign-in where the database has no trigger to do it (Payload): the
--     bridge calls it as the user, with true, on the first request of each new session; only
--     what the Supabase and OIDC triggers would bind binds (the address in one of the
--     provisioning organization's verified domains), the rest waits for the user's consent.
-- Any signed-in user. Raises 42501 when not signed in.
create or replace function public.claim_provisioned_memberships(p_within_verified_domains boolean default false)
returns table (
    organization_id uuid,
    organization_name text,
    role text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_email constant text := core.current_user_verified_email();
    -- null reads as the narrower answer: consent is given by saying so
    v_consented constant boolean := p_within_verified_domains is false;
    v_joined uuid[];
begin
    if v_email is null then
        return;
    end if;
    -- Bound first, read after: a query does not see what a function inside it wrote.
    v_joined := array(select b.id from core.bind_scim_users(v_user_id, v_email, v_consented) as b (id));
    return query
    select o.id, o.name, r.name
    from core.organizations as o
    join core.memberships as m on m.organization_id = o.id and m.user_id = v_user_id
    join core.roles as r on r.id = m.role_id
    where o.id = any (v_joined)
    order by o.name, o.id;
end;
$$;

revoke all on function public.claim_provisioned_memberships(boolean) from public, anon;
grant execute on function public.claim_provisioned_memberships(boolean) to app_user;

-- public.list_provisioned_memberships(): the organizations whose identity provider provisioned
-- the signed-in caller's verified email and is waiting for them to bind: what
-- claim_provisioned_memberships() would join them to (active pending SCIM users of live
-- organizations, not one whose super_admin they are or where another SCIM user is bound to
-- them), with the SCIM role; so an app can ask "Acme's directory added you: join?" first.
-- Nothing for an email the adapter cannot show verified; only ever the caller's own address.
-- Any signed-in user. Raises 42501 when not signed in.
create or replace function public.list_provisioned_memberships()
returns table (
    organization_id uuid,
    organization_name text,
    role text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_email constant text := core.current_user_verified_email();
begin
    if v_email is null then
        return;
    end if;
    return query
    select o.id, o.name, r.name
    from core.scim_users as s
    join core.organizations as o on o.id = s.organization_id and not o.is_deleted
    join core.roles as r on r.id = s.role_id
    where s.email = v_email
      and s.user_id is null
      and s.active
      and not core.is_owner_of(s.organization_id, v_user_id)
      and not exists (
          select 1 from core.scim_users as other
          where other.organization_id = s.organization_id
            and other.user_id = v_user_id
      )
    order by o.name, o.id;
end;
$$;

revoke all on function public.list_provisioned_memberships() from public, anon;
grant execute on function public.list_provisioned_memberships() to app_user;

-- =============================================================================================
-- Users: input and output
-- =============================================================================================

-- core.scim_text(p_changes, p_key, p_max, p_required): the string value of p_key in a SCIM
-- change set, trimmed; null for JSON null, an absent key or an empty string. Internal. Raises
-- 22023 for a value that is not a string, or a missing one when required; 22001 for one longer
-- than p_max characters.
create or replace function core.scim_text(p_changes jsonb, p_key text, p_max integer, p_required boolean)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_value jsonb := p_changes -> p_key;
    v_text text;
begin
    if v_value is not null and pg_catalog.jsonb_typeof(v_value) not in ('string', 'null') then
        raise exception 'SCIM attribute % must be a string', p_key
            using errcode = '22023';
    end if;
    v_text := nullif(pg_catalog.btrim(v_value #>> '{}'), '');
    if v_text is null and p_required then
        raise exception 'SCIM attribute % is required', p_key
            using errcode = '22023';
    end if;
    if pg_catalog.char_length(v_text) > p_max then
        raise exception 'SCIM attribute % is longer than % characters', p_key, p_max
            using errcode = '22001';
    end if;
    return v_text;
end
$$;

revoke all on function core.scim_text(jsonb, text, integer, boolean) from public, anon, authenticated, app_user;

-- core.scim_user_changes(p_base, p_changes, p_replace): p_base with a SCIM change set applied
-- (not written). The keys: user_name, external_id, display_name, given_name, family_name,
-- email, active, role (a role's name). With p_replace (PUT) every attribute takes the set's
-- value, absent ones their default (null; active true; role team); without it (PATCH) only the
-- keys present change, and null clears. Internal. Raises 22023 for a set that is not an
-- object, an unknown key, a value of the wrong type, a missing user_name, an invalid email or
-- an unknown role; 22001 for a value too long; 42501 for the super_admin role or any role
-- above manager.
create or replace function core.scim_user_changes(p_base core.scim_users, p_changes jsonb, p_replace boolean)
returns core.scim_users
language plpgsql
stable
set search_path = ''
as $$
declare
    v_row core.scim_users := p_base;
    v_key text;
    v_role text;
    v_role_id uuid;
begin
    if p_changes is null or pg_catalog.jsonb_typeof(p_changes) <> 'object' then
        raise exception 'SCIM changes must be a JSON object'
            using errcode = '22023';
    end if;
    select k into v_key
    from pg_catalog.jsonb_object_keys(p_changes) as k
    where k not in ('user_name', 'external_id', 'display_name', 'given_name', 'family_name', 'email', 'active', 'role')
    limit 1;
    if v_key is not null then
        raise exception 'Unknown SCIM user attribute: %', v_key
            using errcode = '22023';
    end if;

    if p_replace or p_changes ? 'user_name' then
        v_row.user_name := core.scim_text(p_changes, 'user_name', 256, true);
    end if;
    if p_replace or p_changes ? 'external_id' then
        -- case-exact, and kept as sent
        if pg_catalog.jsonb_typeof(p_changes -> 'external_id') not in ('string', 'null') then
            raise exception 'SCIM attribute external_id must be a string'
                using errcode = '22023';
        end if;
        v_row.external_id := nullif(p_changes ->> 'external_id', '');
        if pg_catalog.char_length(v_row.external_id) > 256 then
            raise exception 'SCIM attribute external_id is longer than 256 characters'
                using errcode = '22001';
        end if;
    end if;
    if p_replace or p_changes ? 'display_name' then
        v_row.display_name := core.scim_text(p_changes, 'display_name', 256, false);
    end if;
    if p_replace or p_changes ? 'given_name' then
        v_row.given_name := core.scim_text(p_changes, 'given_name', 255, false);
    end if;
    if p_replace or p_changes ? 'family_name' then
        v_row.family_name := core.scim_text(p_changes, 'family_name', 255, false);
    end if;
    if p_replace or p_changes ? 'email' then
        v_row.email := pg_catalog.lower(core.scim_text(p_changes, 'email', 320, false));
        if v_row.email !~ '^[^[:space:]@]+@[^[:space:]@]+\.[^[:space:]@]+$' then
            raise exception 'SCIM attribute email is not an email address'
                using errcode = '22023';
        end if;
    end if;
    if p_replace or p_changes ? 'active' then
        if pg_catalog.jsonb_typeof(p_changes -> 'active') = 'boolean' then
            v_row.active := (p_changes ->> 'active')::boolean;
        elsif p_replace and coalesce(pg_catalog.jsonb_typeof(p_changes -> 'active'), 'null') = 'null' then
            v_row.active := true;
        else
            raise exception 'SCIM attribute active must be true or false'
                using errcode = '22023';
        end if;
    end if;
    if p_replace or p_changes ? 'role' then
        v_role := coalesce(core.scim_text(p_changes, 'role', 100, false), 'team');
        select r.id into v_role_id
        from core.roles as r
        where r.name = v_role
          and not r.is_deleted
          and (r.organization_id is null or r.organization_id = p_base.organization_id);
        if v_role_id is null then
            raise exception 'Unknown role: %', v_role
                using errcode = '22023';
        end if;
        if core.role_rank(v_role_id, false) > 2 then
            raise exception 'SCIM never provisions a role above manager'
                using errcode = '42501';
        end if;
        v_row.role_id := v_role_id;
    end if;
    return v_row;
end
$$;

revoke all on function core.scim_user_changes(core.scim_users, jsonb, boolean) from public, anon, authenticated, app_user;

-- What the bridge reads of a SCIM user and of a SCIM group: every platform.scim_* function
-- answers with rows of these types.
create type core.scim_user_resource as (
    id uuid,
    user_name text,
    external_id text,
    email text,
    display_name text,
    given_name text,
    family_name text,
    active boolean,
    role text,
    user_id uuid,
    group_ids uuid[],
    version integer,
    created_at timestamptz,
    updated_at timestamptz
);

create type core.scim_group_resource as (
    id uuid,
    display_name text,
    external_id text,
    member_ids uuid[],
    version integer,
    created_at timestamptz,
    updated_at timestamptz
);

-- core.scim_user_rows(p_org_id, p_id): the organization's SCIM users as the bridge shows them
-- (only p_id when given: a write reads back its own row without building the whole list), in a
-- stable order (created_at, id). Internal. Raises nothing.
create or replace function core.scim_user_rows(p_org_id uuid, p_id uuid default null)
returns setof core.scim_user_resource
language sql
stable
set search_path = ''
as $$
    select s.id, s.user_name, s.external_id, s.email, s.display_name, s.given_name, s.family_name,
           s.active, r.name, s.user_id,
           coalesce((select pg_catalog.array_agg(gm.unit_id order by gm.unit_id)
                     from core.scim_group_members as gm
                     join core.units as u on u.id = gm.unit_id and not u.is_deleted
                     where gm.scim_user_id = s.id), '{}'),
           s.version, s.created_at, s.updated_at
    from core.scim_users as s
    join core.roles as r on r.id = s.role_id
    where s.organization_id = p_org_id
      and (p_id is null or s.id = p_id)
    order by s.created_at, s.id;
$$;

revoke all on function core.scim_user_rows(uuid, uuid) from public, anon, authenticated, app_user;

-- core.scim_unique_violation(p_constraint): the SCIM attribute a unique index of
-- core.scim_users or core.scim_groups stands for, raised as 23505. Internal. Always raises.
create or replace function core.scim_unique_violation(p_constraint text)
returns void
language plpgsql
set search_path = ''
as $$
begin
    raise exception 'A SCIM % of this organization already has that %',
        case when p_constraint like 'scim_groups%' then 'group' else 'user' end,
        case p_constraint
            when 'scim_users_user_name_key' then 'userName'
            when 'scim_users_email_key' then 'email'
            when 'scim_users_user_id_key' then 'SMTA user'
            else 'externalId'
        end
        using errcode = '23505';
end
$$;

revoke all on function core.scim_unique_violation(text) from public, anon, authenticated, app_user;

-- core.scim_write_user(p_token, p_id, p_changes, p_replace, p_if_version): the shared body of
-- the user writes: creates (p_id null) or changes a SCIM user of the token's organization,
-- binds it at once when the database knows its email verified and the address is in one of the
-- organization's verified domains, and applies the result to the memberships. Returns the id.
-- Internal. Raises P0002 for an unknown id or another organization's; 42501 for the owner, a
-- role above manager; SC412 when p_if_version is given and is not the current version; 23505
-- for a duplicate userName, externalId or email; what core.scim_user_changes raises; P0001 when
-- the seat limit is reached.
create or replace function core.scim_write_user(
    p_token core.scim_tokens,
    p_id uuid,
    p_changes jsonb,
    p_replace boolean,
    p_if_version integer
)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_old core.scim_users;
    v_new core.scim_users;
    v_found uuid;
    v_constraint text;
begin
    if p_id is null then
        v_old.id := pg_catalog.gen_random_uuid();
        v_old.organization_id := p_token.organization_id;
        v_old.active := true;
        v_old.version := 1;
        v_old.created_by_token := p_token.id;
    else
        select s.* into v_old
        from core.scim_users as s
        where s.id = p_id
          and s.organization_id = p_token.organization_id
        for update;
        if not found then
            raise exception 'SCIM user not found'
                using errcode = 'P0002';
        end if;
        if v_old.user_id is not null and core.is_owner_of(v_old.organization_id, v_old.user_id) then
            raise exception 'The organization''s super_admin is never provisioned by SCIM'
                using errcode = '42501';
        end if;
        if p_if_version is not null and p_if_version <> v_old.version then
            raise exception 'The SCIM user has changed (version % is not %)', v_old.version, p_if_version
                using errcode = 'SC412';
        end if;
    end if;

    v_new := core.scim_user_changes(v_old, p_changes, p_replace);

    -- Binding at once: an address the database knows verified, in one of the organization's
    -- verified domains (any other waits for its holder's claim, and the answer shows nothing
    -- of whether the address has an account). Never to the owner (refused, whatever the
    -- domain: the organization knows its owner's address); never to someone another SCIM user
    -- of the organization is already bound to (they stay pending).
    if v_new.user_id is null and v_new.email is not null and v_new.email is distinct from v_old.email then
        v_found := core.find_verified_user(v_new.email);
        if v_found is not null then
            if core.is_owner_of(v_new.organization_id, v_found) then
                raise exception 'The organization''s super_admin is never provisioned by SCIM'
                    using errcode = '42501';
            end if;
            if core.scim_binds_automatically(v_new.organization_id, v_new.email) and not exists (
                select 1 from core.scim_users as other
                where other.organization_id = v_new.organization_id
                  and other.user_id = v_found
            ) then
                v_new.user_id := v_found;
            end if;
        end if;
    end if;

    if p_id is not null and v_new is not distinct from v_old then
        return v_new.id; -- nothing changes: no new version, no audit row
    end if;

    begin
        if p_id is null then
            insert into core.scim_users (
                id, organization_id, user_name, external_id, display_name, given_name, family_name,
                email, active, role_id, user_id, created_by_token
            )
            values (
                v_new.id, v_new.organization_id, v_new.user_name, v_new.external_id, v_new.display_name,
                v_new.given_name, v_new.family_name, v_new.email, v_new.active, v_new.role_id, v_new.user_id,
                v_new.created_by_token
            );
        else
            update core.scim_users as s
            set user_name = v_new.user_name,
                external_id = v_new.external_id,
                display_name = v_new.display_name,
                given_name = v_new.given_name,
                family_name = v_new.family_name,
                email = v_new.email,
                active = v_new.active,
                role_id = v_new.role_id,
                user_id = v_new.user_id
            where s.id = v_new.id;
        end if;
    exception
        when unique_violation then
            get stacked diagnostics v_constraint = constraint_name;
            perform core.scim_unique_violation(v_constraint);
    end;

    if v_new.user_id is not null
       and (p_id is null or v_old.user_id is null or v_new.active <> v_old.active or v_new.role_id <> v_old.role_id) then
        perform core.scim_sync_membership(v_new, p_token.id);
    end if;
    return v_new.id;
end
$$;

revoke all on function core.scim_write_user(core.scim_tokens, uuid, jsonb, boolean, integer)
    from public, anon, authenticated, app_user;

-- =============================================================================================
-- The platform: SCIM Users
-- =============================================================================================

-- platform.scim_users_pending(p_email): whether an active SCIM user of a live organization
-- waits, unbound, for this address (lowercased). For the bridge, which asks it on the first
-- request of a Payload session before binding as the user (a sign-in the database never sees):
-- a read with no side effect, so that nothing is written for a session nobody provisioned.
-- The bridge only. Raises nothing.
create or replace function platform.scim_users_pending(p_email text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1
        from core.scim_users as s
        join core.organizations as o on o.id = s.organization_id and not o.is_deleted
        where s.email = pg_catalog.lower(pg_catalog.btrim(p_email))
          and s.user_id is null
          and s.active
    );
$$;

revoke all on function platform.scim_users_pending(text) from public, anon, authenticated, app_user;
grant execute on function platform.scim_users_pending(text) to app_admin;

-- platform.scim_users(p_token_id): the token's organization's SCIM users, oldest first
-- (created_at, id): the set the bridge filters and pages (WHERE, count, LIMIT/OFFSET). The
-- bridge (app_admin) only. Raises 28000 for a token that is revoked, unknown or of a deleted
-- organization.
create or replace function platform.scim_users(p_token_id uuid)
returns setof core.scim_user_resource
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query select * from core.scim_user_rows(core.scim_token_organization(p_token_id));
end;
$$;

-- platform.scim_get_user(p_token_id, p_id): one SCIM user of the token's organization. The
-- bridge only. Raises 28000 for a dead token; P0002 for an unknown id or another
-- organization's.
create or replace function platform.scim_get_user(p_token_id uuid, p_id uuid)
returns setof core.scim_user_resource
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query select * from core.scim_user_rows(core.scim_token_organization(p_token_id), p_id);
    if not found then
        raise exception 'SCIM user not found'
            using errcode = 'P0002';
    end if;
end;
$$;

-- platform.scim_create_user(p_token_id, p_user): provisions a SCIM user (SCIM POST) from its
-- attributes (keys of core.scim_user_changes; user_name required); binds it at once to the
-- user whose verified email it names, if the database knows one and the address is in one of
-- the organization's verified domains (any other waits for its holder's consent). The bridge
-- only. Raises 28000, 22023, 22001, 42501, 23505, P0001 (see the comment below).
create or replace function platform.scim_create_user(p_token_id uuid, p_user jsonb)
returns setof core.scim_user_resource
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_id uuid;
begin
    v_id := core.scim_write_user(v_token, null, p_user, true, null);
    perform core.scim_end();
    return query select * from core.scim_user_rows(v_token.organization_id, v_id);
end;
$$;

-- platform.scim_replace_user(p_token_id, p_id, p_user, p_if_version): replaces a SCIM user's
-- attributes (SCIM PUT: absent attributes take their defaults). The bridge only. Raises as
-- scim_create_user, and P0002, SC412.
create or replace function platform.scim_replace_user(p_token_id uuid, p_id uuid, p_user jsonb, p_if_version integer default null)
returns setof core.scim_user_resource
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_id uuid;
begin
    v_id := core.scim_write_user(v_token, p_id, p_user, true, p_if_version);
    perform core.scim_end();
    return query select * from core.scim_user_rows(v_token.organization_id, v_id);
end;
$$;

-- platform.scim_update_user(p_token_id, p_id, p_changes, p_if_version): changes the attributes
-- named in p_changes only (SCIM PATCH, once the bridge has turned its operations into one
-- change set); active = false ends the membership at once. The bridge only. Raises as
-- scim_replace_user.
create or replace function platform.scim_update_user(p_token_id uuid, p_id uuid, p_changes jsonb, p_if_version integer default null)
returns setof core.scim_user_resource
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_id uuid;
begin
    v_id := core.scim_write_user(v_token, p_id, p_changes, false, p_if_version);
    perform core.scim_end();
    return query select * from core.scim_user_rows(v_token.organization_id, v_id);
end;
$$;

-- platform.scim_delete_user(p_token_id, p_id, p_if_version): deletes a SCIM user (SCIM DELETE)
-- and its group memberships; a bound user's membership of the organization ends at once (soft
-- delete, audited). The bridge only. Raises 28000; P0002 for an unknown id or another
-- organization's; 42501 for the owner; SC412 for a stale version.
create or replace function platform.scim_delete_user(p_token_id uuid, p_id uuid, p_if_version integer default null)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_scim core.scim_users;
begin
    select s.* into v_scim
    from core.scim_users as s
    where s.id = p_id
      and s.organization_id = v_token.organization_id
    for update;
    if not found then
        raise exception 'SCIM user not found'
            using errcode = 'P0002';
    end if;
    if v_scim.user_id is not null and core.is_owner_of(v_scim.organization_id, v_scim.user_id) then
        raise exception 'The organization''s super_admin is never provisioned by SCIM'
            using errcode = '42501';
    end if;
    if p_if_version is not null and p_if_version <> v_scim.version then
        raise exception 'The SCIM user has changed (version % is not %)', v_scim.version, p_if_version
            using errcode = 'SC412';
    end if;

    v_scim.active := false;
    perform core.scim_sync_membership(v_scim, v_token.id);
    delete from core.scim_users as s where s.id = v_scim.id;
    perform core.scim_end();
end;
$$;

-- =============================================================================================
-- The platform: SCIM Groups
-- =============================================================================================

-- core.scim_group_rows(p_org_id, p_id): the organization's SCIM groups (live units only; only
-- p_id when given) with their members' ids, oldest first (created_at, id). Internal. Raises
-- nothing.
create or replace function core.scim_group_rows(p_org_id uuid, p_id uuid default null)
returns setof core.scim_group_resource
language sql
stable
set search_path = ''
as $$
    select g.unit_id, u.name, g.external_id,
           coalesce((select pg_catalog.array_agg(gm.scim_user_id order by gm.scim_user_id)
                     from core.scim_group_members as gm
                     where gm.unit_id = g.unit_id), '{}'),
           g.version, g.created_at, g.updated_at
    from core.scim_groups as g
    join core.units as u on u.id = g.unit_id and not u.is_deleted
    where g.organization_id = p_org_id
      and (p_id is null or g.unit_id = p_id)
    order by g.created_at, g.unit_id;
$$;

revoke all on function core.scim_group_rows(uuid, uuid) from public, anon, authenticated, app_user;

-- core.scim_lock_group(p_token, p_id, p_if_version): the SCIM group p_id of the token's
-- organization (a live unit), locked for a change. Internal. Raises P0002 for an unknown id,
-- another organization's or a unit SCIM does not manage; SC412 for a stale version.
create or replace function core.scim_lock_group(p_token core.scim_tokens, p_id uuid, p_if_version integer)
returns core.scim_groups
language plpgsql
set search_path = ''
as $$
declare
    v_group core.scim_groups;
begin
    select g.* into v_group
    from core.scim_groups as g
    join core.units as u on u.id = g.unit_id and not u.is_deleted
    where g.unit_id = p_id
      and g.organization_id = p_token.organization_id
    for update of g, u;
    if not found then
        raise exception 'SCIM group not found'
            using errcode = 'P0002';
    end if;
    if p_if_version is not null and p_if_version <> v_group.version then
        raise exception 'The SCIM group has changed (version % is not %)', v_group.version, p_if_version
            using errcode = 'SC412';
    end if;
    return v_group;
end
$$;

revoke all on function core.scim_lock_group(core.scim_tokens, uuid, integer) from public, anon, authenticated, app_user;

-- core.scim_group_name(p_name): a group's displayName as a unit name: trimmed, 1 to 255
-- characters. Internal. Raises 22023 for a missing one; 22001 for one too long.
create or replace function core.scim_group_name(p_name text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
    return core.scim_text(pg_catalog.jsonb_build_object('display_name', p_name), 'display_name', 255, true);
end
$$;

revoke all on function core.scim_group_name(text) from public, anon, authenticated, app_user;

-- core.scim_group_external_id(p_external_id): a group's externalId as stored: kept as sent,
-- null for empty, at most 256 characters. Internal. Raises 22001 for one too long.
create or replace function core.scim_group_external_id(p_external_id text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
    if pg_catalog.char_length(p_external_id) > 256 then
        raise exception 'SCIM attribute external_id is longer than 256 characters'
            using errcode = '22001';
    end if;
    return nullif(p_external_id, '');
end
$$;

revoke all on function core.scim_group_external_id(text) from public, anon, authenticated, app_user;

-- core.scim_change_members(p_group, p_ids, p_mode, p_actor): adds ('add'), removes ('remove')
-- or sets exactly ('replace') the members of a SCIM group, and mirrors the change in the unit
-- memberships of bound, active members. Every id must be a SCIM user of the group's
-- organization, else nothing changes. Returns whether the membership changed. Internal.
-- Raises 22023 for a null id; P0002 for an id that is no SCIM user of the organization.
create or replace function core.scim_change_members(p_group core.scim_groups, p_ids uuid[], p_mode text, p_actor uuid)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
    v_ids uuid[] := coalesce(p_ids, '{}');
    v_changed boolean := false;
    v_member record;
begin
    if pg_catalog.array_position(v_ids, null) is not null then
        raise exception 'A SCIM member id is required'
            using errcode = '22023';
    end if;
    if exists (
        select 1 from pg_catalog.unnest(v_ids) as i (id)
        where not exists (
            select 1 from core.scim_users as s
            where s.id = i.id and s.organization_id = p_group.organization_id
        )
    ) then
        raise exception 'SCIM user not found'
            using errcode = 'P0002';
    end if;

    if p_mode in ('remove', 'replace') then
        for v_member in
            delete from core.scim_group_members as gm
            where gm.unit_id = p_group.unit_id
              and (case when p_mode = 'remove' then gm.scim_user_id = any (v_ids)
                        else not (gm.scim_user_id = any (v_ids)) end)
            returning gm.scim_user_id
        loop
            v_changed := true;
            perform core.scim_drop_unit_member(s.user_id, p_group.unit_id, p_actor)
            from core.scim_users as s
            where s.id = v_member.scim_user_id and s.user_id is not null;
        end loop;
    end if;

    if p_mode in ('add', 'replace') then
        for v_member in
            insert into core.scim_group_members as gm (unit_id, scim_user_id, organization_id)
            select distinct p_group.unit_id, i.id, p_group.organization_id
            from pg_catalog.unnest(v_ids) as i (id)
            on conflict do nothing
            returning gm.scim_user_id
        loop
            v_changed := true;
            -- mirrored for a bound, active member whose membership is live
            perform core.scim_put_unit_member(s.user_id, p_group.unit_id, p_actor)
            from core.scim_users as s
            join core.memberships as m
              on m.user_id = s.user_id and m.organization_id = s.organization_id and not m.is_deleted
            where s.id = v_member.scim_user_id and s.user_id is not null and s.active;
        end loop;
    end if;
    return v_changed;
end
$$;

revoke all on function core.scim_change_members(core.scim_groups, uuid[], text, uuid) from public, anon, authenticated, app_user;

-- core.scim_touch_group(p_unit_id): the group's version grows by one (its name, externalId or
-- members changed). Internal. Raises nothing.
create or replace function core.scim_touch_group(p_unit_id uuid)
returns void
language sql
set search_path = ''
as $$
    update core.scim_groups as g set version = g.version + 1 where g.unit_id = p_unit_id;
$$;

revoke all on function core.scim_touch_group(uuid) from public, anon, authenticated, app_user;

-- platform.scim_groups(p_token_id): the token's organization's SCIM groups with their members'
-- ids, oldest first (created_at, id): the set the bridge filters and pages. The bridge only.
-- Raises 28000 for a dead token.
create or replace function platform.scim_groups(p_token_id uuid)
returns setof core.scim_group_resource
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query select * from core.scim_group_rows(core.scim_token_organization(p_token_id));
end;
$$;

-- platform.scim_get_group(p_token_id, p_id): one SCIM group of the token's organization. The
-- bridge only. Raises 28000; P0002 for an unknown id, another organization's or a unit SCIM
-- does not manage.
create or replace function platform.scim_get_group(p_token_id uuid, p_id uuid)
returns setof core.scim_group_resource
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return query select * from core.scim_group_rows(core.scim_token_organization(p_token_id), p_id);
    if not found then
        raise exception 'SCIM group not found'
            using errcode = 'P0002';
    end if;
end;
$$;

-- platform.scim_create_group(p_token_id, p_display_name, p_external_id, p_member_ids): creates a
-- SCIM group: a new unit of the token's organization named p_display_name, with those SCIM
-- users as members. The bridge only. Raises 28000; 22023, 22001 for the name or an id; 23505
-- for a duplicate externalId; P0002 for a member id that is no SCIM user of the organization.
create or replace function platform.scim_create_group(
    p_token_id uuid,
    p_display_name text,
    p_external_id text default null,
    p_member_ids uuid[] default null
)
returns setof core.scim_group_resource
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_name text := core.scim_group_name(p_display_name);
    v_external_id text := core.scim_group_external_id(p_external_id);
    v_unit_id uuid;
    v_group core.scim_groups;
    v_constraint text;
begin
    insert into core.units as u (organization_id, name, created_by, updated_by)
    values (v_token.organization_id, v_name, v_token.id, v_token.id)
    returning u.id into v_unit_id;
    begin
        insert into core.scim_groups as g (unit_id, organization_id, external_id, created_by_token)
        values (v_unit_id, v_token.organization_id, v_external_id, v_token.id)
        returning g.* into v_group;
    exception
        when unique_violation then
            get stacked diagnostics v_constraint = constraint_name;
            perform core.scim_unique_violation(v_constraint);
    end;
    perform core.scim_change_members(v_group, p_member_ids, 'add', v_token.id);
    perform core.scim_end();
    return query select * from core.scim_group_rows(v_token.organization_id, v_unit_id);
end;
$$;

-- platform.scim_replace_group(p_token_id, p_id, p_display_name, p_external_id, p_member_ids,
-- p_if_version): replaces a SCIM group's name, externalId and members (SCIM PUT). The bridge
-- only. Raises as scim_create_group, and P0002 for an unknown group, SC412 for a stale version.
create or replace function platform.scim_replace_group(
    p_token_id uuid,
    p_id uuid,
    p_display_name text,
    p_external_id text default null,
    p_member_ids uuid[] default null,
    p_if_version integer default null
)
returns setof core.scim_group_resource
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_group core.scim_groups := core.scim_lock_group(v_token, p_id, p_if_version);
    v_name text := core.scim_group_name(p_display_name);
    v_external_id text := core.scim_group_external_id(p_external_id);
    v_changed boolean;
    v_constraint text;
begin
    v_changed := core.scim_change_members(v_group, p_member_ids, 'replace', v_token.id);
    update core.units as u
    set name = v_name, updated_by = v_token.id
    where u.id = v_group.unit_id and u.name is distinct from v_name;
    v_changed := v_changed or found;
    begin
        update core.scim_groups as g
        set external_id = v_external_id
        where g.unit_id = v_group.unit_id and g.external_id is distinct from v_external_id;
        v_changed := v_changed or found;
    exception
        when unique_violation then
            get stacked diagnostics v_constraint = constraint_name;
            perform core.scim_unique_violation(v_constraint);
    end;
    if v_changed then
        perform core.scim_touch_group(v_group.unit_id);
    end if;
    perform core.scim_end();
    return query select * from core.scim_group_rows(v_token.organization_id, v_group.unit_id);
end;
$$;

-- platform.scim_update_group(p_token_id, p_id, p_changes, p_if_version): changes the attributes
-- named in p_changes (keys display_name, external_id; SCIM PATCH of the group itself; members
-- change with scim_add_group_members / scim_remove_group_members). The bridge only. Raises
-- 28000; P0002; SC412; 22023 for a set that is not an object, an unknown key or a value of the
-- wrong type; 22001; 23505 for a duplicate externalId.
create or replace function platform.scim_update_group(p_token_id uuid, p_id uuid, p_changes jsonb, p_if_version integer default null)
returns setof core.scim_group_resource
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_group core.scim_groups := core.scim_lock_group(v_token, p_id, p_if_version);
    v_key text;
    v_name text;
    v_external_id text;
    v_changed boolean := false;
    v_constraint text;
begin
    if p_changes is null or pg_catalog.jsonb_typeof(p_changes) <> 'object' then
        raise exception 'SCIM changes must be a JSON object'
            using errcode = '22023';
    end if;
    select k into v_key
    from pg_catalog.jsonb_object_keys(p_changes) as k
    where k not in ('display_name', 'external_id')
    limit 1;
    if v_key is not null then
        raise exception 'Unknown SCIM group attribute: %', v_key
            using errcode = '22023';
    end if;

    if p_changes ? 'display_name' then
        v_name := core.scim_text(p_changes, 'display_name', 255, true);
        update core.units as u
        set name = v_name, updated_by = v_token.id
        where u.id = v_group.unit_id and u.name is distinct from v_name;
        v_changed := found;
    end if;
    if p_changes ? 'external_id' then
        if pg_catalog.jsonb_typeof(p_changes -> 'external_id') not in ('string', 'null') then
            raise exception 'SCIM attribute external_id must be a string'
                using errcode = '22023';
        end if;
        v_external_id := core.scim_group_external_id(p_changes ->> 'external_id');
        begin
            update core.scim_groups as g
            set external_id = v_external_id
            where g.unit_id = v_group.unit_id and g.external_id is distinct from v_external_id;
            v_changed := v_changed or found;
        exception
            when unique_violation then
                get stacked diagnostics v_constraint = constraint_name;
                perform core.scim_unique_violation(v_constraint);
        end;
    end if;
    if v_changed then
        perform core.scim_touch_group(v_group.unit_id);
    end if;
    perform core.scim_end();
    return query select * from core.scim_group_rows(v_token.organization_id, v_group.unit_id);
end;
$$;

-- platform.scim_add_group_members(p_token_id, p_id, p_ids, p_if_version): adds SCIM users of the
-- token's organization to a SCIM group (members already in it stay). The bridge only. Raises
-- 28000; P0002 for an unknown group, or a member id that is no SCIM user of the organization
-- (nothing changes); 22023 for a null id; SC412.
create or replace function platform.scim_add_group_members(p_token_id uuid, p_id uuid, p_ids uuid[], p_if_version integer default null)
returns setof core.scim_group_resource
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_group core.scim_groups := core.scim_lock_group(v_token, p_id, p_if_version);
begin
    if core.scim_change_members(v_group, p_ids, 'add', v_token.id) then
        perform core.scim_touch_group(v_group.unit_id);
    end if;
    perform core.scim_end();
    return query select * from core.scim_group_rows(v_token.organization_id, v_group.unit_id);
end;
$$;

-- platform.scim_remove_group_members(p_token_id, p_id, p_ids, p_if_version): removes SCIM users
-- from a SCIM group (ids not in it are ignored); bound members lose their unit membership at
-- once. The bridge only. Raises as scim_add_group_members.
create or replace function platform.scim_remove_group_members(p_token_id uuid, p_id uuid, p_ids uuid[], p_if_version integer default null)
returns setof core.scim_group_resource
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_group core.scim_groups := core.scim_lock_group(v_token, p_id, p_if_version);
begin
    if core.scim_change_members(v_group, p_ids, 'remove', v_token.id) then
        perform core.scim_touch_group(v_group.unit_id);
    end if;
    perform core.scim_end();
    return query select * from core.scim_group_rows(v_token.organization_id, v_group.unit_id);
end;
$$;

-- platform.scim_delete_group(p_token_id, p_id, p_if_version): deletes a SCIM group: its unit is
-- soft-deleted with its unit memberships and unit_meta row, as public.delete_unit does, and
-- the group's members go. The bridge only. Raises 28000; P0002; SC412; P0001 when the unit has
-- live sub-units (the organization nested units of its own under it).
create or replace function platform.scim_delete_group(p_token_id uuid, p_id uuid, p_if_version integer default null)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens := core.scim_begin(p_token_id);
    v_group core.scim_groups := core.scim_lock_group(v_token, p_id, p_if_version);
begin
    if exists (
        select 1 from core.units as child
        where child.parent_unit_id = v_group.unit_id
          and not child.is_deleted
    ) then
        raise exception 'Cannot delete a unit that has sub-units. Delete its sub-units first.'
            using errcode = 'P0001';
    end if;

    delete from core.scim_groups as g where g.unit_id = v_group.unit_id;

    update core.unit_memberships as um
    set is_deleted = true, deleted_at = pg_catalog.now(), deleted_by = v_token.id, updated_by = v_token.id
    where um.unit_id = v_group.unit_id
      and not um.is_deleted;

    update core.unit_meta as meta
    set is_deleted = true, deleted_at = pg_catalog.now(), deleted_by = v_token.id, updated_by = v_token.id
    where meta.id = v_group.unit_id
      and not meta.is_deleted;

    update core.units as u
    set is_deleted = true, deleted_at = pg_catalog.now(), deleted_by = v_token.id, updated_by = v_token.id
    where u.id = v_group.unit_id;
    perform core.scim_end();
end;
$$;

-- The bridge (app_admin) only.
do $$
declare
    v_function regprocedure;
begin
    foreach v_function in array array[
        'platform.scim_users(uuid)', 'platform.scim_get_user(uuid, uuid)',
        'platform.scim_create_user(uuid, jsonb)', 'platform.scim_replace_user(uuid, uuid, jsonb, integer)',
        'platform.scim_update_user(uuid, uuid, jsonb, integer)', 'platform.scim_delete_user(uuid, uuid, integer)',
        'platform.scim_groups(uuid)', 'platform.scim_get_group(uuid, uuid)',
        'platform.scim_create_group(uuid, text, text, uuid[])',
        'platform.scim_replace_group(uuid, uuid, text, text, uuid[], integer)',
        'platform.scim_update_group(uuid, uuid, jsonb, integer)',
        'platform.scim_add_group_members(uuid, uuid, uuid[], integer)',
        'platform.scim_remove_group_members(uuid, uuid, uuid[], integer)',
        'platform.scim_delete_group(uuid, uuid, integer)'
    ]::regprocedure[] loop
        execute format('revoke all on function %s from public, anon, authenticated, app_user', v_function);
        execute format('grant execute on function %s to app_admin', v_function);
    end loop;
end
$$;

comment on function platform.scim_users_pending(text) is
$$Whether an active SCIM user waits, unbound, for this address in a live organization.
Callers: the bridge (app_admin), before binding a Payload sign-in.
Returns: true or false.
Errors: none.$$;

comment on function platform.scim_users(uuid) is
$$The token's organization's SCIM users, oldest first (created_at, id): filter and page them with WHERE, count(*) and LIMIT/OFFSET.
Callers: the bridge (app_admin).
Returns: one row per SCIM user (id, user_name, external_id, email, display_name, given_name, family_name, active, role, user_id, group_ids, version, created_at, updated_at); user_id is null while the user is pending.
Errors: 28000 when the token is revoked or unknown or its organization deleted.$$;

comment on function platform.scim_get_user(uuid, uuid) is
$$One SCIM user of the token's organization.
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_users.
Errors: 28000 for a dead token; P0002 when the id is unknown or another organization's.$$;

comment on function platform.scim_create_user(uuid, jsonb) is
$$Provisions a SCIM user (SCIM POST): pending until it binds to the user with that verified email; an active bound user becomes a member with the SCIM role. An address in one of the organization's verified domains binds by itself: at once when the database already knows it verified, else at that user's sign-in; any other binds only when its holder consents (public.claim_provisioned_memberships).
p_user keys: user_name (required, unique per organization ignoring case), external_id, display_name, given_name, family_name, email (lowercased; what binds), active (default true), role (a role name: manager, team (the default) or one of the organization's own roles).
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_users.
Errors: 28000 for a dead token; 22023 for invalid input (unknown key, wrong type, missing user_name, invalid email, unknown role); 22001 for a value too long; 42501 for the super_admin role or one above manager, or an email the database knows as the owner's; 23505 when the organization already has that userName, externalId or email; P0001 when the seat limit is reached.$$;

comment on function platform.scim_replace_user(uuid, uuid, jsonb, integer) is
$$Replaces a SCIM user's attributes (SCIM PUT): absent keys take their defaults (null; active true; role team). Deactivation ends the membership at once, re-activation restores it.
p_if_version: the version the change is based on (If-Match), or null.
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_users.
Errors: as platform.scim_create_user; P0002 when the id is unknown or another organization's; 42501 when the user is the organization's super_admin; SC412 when p_if_version is not the current version.$$;

comment on function platform.scim_update_user(uuid, uuid, jsonb, integer) is
$$Changes only the SCIM user attributes named in p_changes (SCIM PATCH as one change set; null clears an attribute): active false ends the membership at once, true restores it; role changes the membership's role.
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_users.
Errors: as platform.scim_replace_user.$$;

comment on function platform.scim_delete_user(uuid, uuid, integer) is
$$Deletes a SCIM user (SCIM DELETE) with its group memberships; a bound user's membership ends at once (soft delete, audited).
Callers: the bridge (app_admin).
Returns: nothing.
Errors: 28000 for a dead token; P0002 when the id is unknown or another organization's; 42501 when the user is the organization's super_admin; SC412 when p_if_version is not the current version.$$;

comment on function platform.scim_groups(uuid) is
$$The token's organization's SCIM groups (the units SCIM created) with their members, oldest first (created_at, id): filter and page them with WHERE, count(*) and LIMIT/OFFSET.
Callers: the bridge (app_admin).
Returns: one row per group (id (the unit's), display_name, external_id, member_ids, version, created_at, updated_at).
Errors: 28000 when the token is revoked or unknown or its organization deleted.$$;

comment on function platform.scim_get_group(uuid, uuid) is
$$One SCIM group of the token's organization.
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_groups.
Errors: 28000 for a dead token; P0002 when the id is unknown, another organization's, or a unit SCIM does not manage.$$;

comment on function platform.scim_create_group(uuid, text, text, uuid[]) is
$$Creates a SCIM group: a unit of the token's organization named p_display_name, with the given SCIM users as members (bound, active ones become unit members with the team role).
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_groups.
Errors: 28000 for a dead token; 22023 for a missing name or a null member id; 22001 for a name over 255 or an externalId over 256 characters; 23505 when the organization already has a group with that externalId; P0002 when a member id is no SCIM user of the organization (nothing is created).$$;

comment on function platform.scim_replace_group(uuid, uuid, text, text, uuid[], integer) is
$$Replaces a SCIM group's name, externalId and members (SCIM PUT); members who leave lose their unit membership at once.
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_groups.
Errors: as platform.scim_create_group; P0002 when the group is unknown or another organization's; SC412 when p_if_version is not the current version.$$;

comment on function platform.scim_update_group(uuid, uuid, jsonb, integer) is
$$Changes the SCIM group attributes named in p_changes: display_name (renames the unit), external_id.
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_groups.
Errors: 28000 for a dead token; P0002 when the group is unknown or another organization's; SC412 when p_if_version is not the current version; 22023 for invalid input; 22001 for a value too long; 23505 for a duplicate externalId.$$;

comment on function platform.scim_add_group_members(uuid, uuid, uuid[], integer) is
$$Adds SCIM users of the token's organization to a SCIM group; bound, active ones become unit members with the team role.
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_groups.
Errors: 28000 for a dead token; P0002 when the group is unknown or another organization's, or a member id is no SCIM user of the organization (nothing changes); 22023 for a null id; SC412 when p_if_version is not the current version.$$;

comment on function platform.scim_remove_group_members(uuid, uuid, uuid[], integer) is
$$Removes SCIM users from a SCIM group (ids not in it are ignored); bound ones lose their unit membership at once.
Callers: the bridge (app_admin).
Returns: one row, as platform.scim_groups.
Errors: as platform.scim_add_group_members.$$;

comment on function platform.scim_delete_group(uuid, uuid, integer) is
$$Deletes a SCIM group: its unit is soft-deleted with its unit memberships, as delete_unit does.
Callers: the bridge (app_admin).
Returns: nothing.
Errors: 28000 for a dead token; P0002 when the group is unknown or another organization's; SC412 when p_if_version is not the current version; P0001 when the unit has live sub-units.$$;

-- =============================================================================================
-- SCIM provisioning
-- =============================================================================================

comment on function public.claim_provisioned_memberships(boolean) is
$$Joins the caller to the organizations whose identity provider provisioned their verified email through SCIM.
Binds the pending SCIM users with the caller's verified email (as the platform proves it; nothing for an unverified one) and makes the active ones memberships with their SCIM role and groups; an organization whose super_admin the caller is, or that has no free seat any more, is left out. Two uses. The user's consent (p_within_verified_domains false, the default): call it when the user accepts what list_provisioned_memberships showed them; every pending SCIM user of their address binds, whatever its domain. Binding at sign-in where the database has no trigger for it (Payload): the bridge calls it as the user with p_within_verified_domains true (null counts as true) on the first request of each new session; only addresses in one of the provisioning organization's verified domains bind, as the Supabase and OIDC adapters' triggers bind them by themselves when the email is confirmed or recorded; the others wait for the user's consent.
Callers: any signed-in user.
Returns: one row per organization joined (organization_id, organization_name, role); none when nothing was pending.
Errors: 42501 when not signed in.$$;

comment on function public.list_provisioned_memberships() is
$$The organizations whose identity provider provisioned the caller's verified email through SCIM and that claim_provisioned_memberships() would join them to: show them ("Acme's directory added you: join?") before the user consents.
Only the caller's own verified address (nothing for an unverified one); active pending SCIM users of live organizations, not one whose super_admin the caller is or where another SCIM user is bound to them. Joining may still be refused when the organization has no free seat any more.
Callers: any signed-in user.
Returns: one row per organization (organization_id, organization_name, role: the SCIM role the membership would have); none when nothing is pending.
Errors: 42501 when not signed in.$$;
