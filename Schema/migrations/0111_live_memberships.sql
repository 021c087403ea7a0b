-- 0111_live_memberships: which of the caller's memberships count, now and for this request.
-- Two rules join "not removed" here: a membership past its expiry does not count, and when the
-- request names an active organization, only the memberships of that organization count.
--
-- Expiry: time-bound access. An organization membership or a unit
-- membership may carry an expiry (expires_at); from that moment the gate treats it as absent,
-- at query time, with no scheduled job: every helper that answers "is the caller a member"
-- compares expires_at with the transaction's now(). The row stays (the member is listed with
-- the past expiry until renewed or removed), so renewing is one call:
-- public.set_membership_expiry(p_membership_id, p_expires_at), where null means never.
--
-- What "live" means from here on: not removed (is_deleted) AND not expired
-- (expires_at is null or expires_at > now()). Every helper below that asks it of the CALLER's
-- memberships is redefined with the expiry (same signatures, same results for memberships
-- without one):
--   * the gate helpers: core.current_user_org_ids, current_user_managed_org_ids,
--     current_user_unit_ids, current_user_unit_roles, unit_membership_role_for, is_org_member,
--     get_org_role (so every policy, every app table under core.enable_tenancy and every API
--     function that authorizes through them);
--   * the API functions that read the caller's memberships themselves: list_my_organizations
--     (get_user_permissions is recreated with both rules in 0116, where it also learns units);
-- and where it is asked of ANOTHER user's membership:
--   * a unit membership needs a live organization membership: core.check_unit_member_write
--     (the API's unit writes) and core.guard_direct_membership_write (direct writes);
--   * list_unit_members lists who reaches the unit now;
--   * transfer_super_admin hands ownership only to a live member, and clears their expiry;
--   * the seat limit counts live memberships only: an expired membership frees its seat, and
--     renewing it must fit the limit again (the seat trigger now also watches expires_at).
-- Untouched on purpose: the colleague-visibility checks (shares_organization,
-- is_consenting_colleague, the users_meta policy) ask whether the CALLER is live (through
-- current_user_org_ids) and then see colleagues whose memberships are expired too, as
-- list_organization_members does; "already a member" checks (add_member_to_organization,
-- invitations) see the expired row as the membership it is: renew it instead.
--
-- The active organization: apps that show one organization at a time name it per request (the
-- bridge's X-SMTA-Organization header or a token claim, passed by core.set_caller, 0115; under
-- PostgREST the same header, from request.headers), and core.current_organization_id() returns
-- it. Every helper above that answers for the caller then answers for that organization only,
-- so a query that forgets its organization filter still cannot return another organization's
-- rows. It only ever narrows: a caller who names an organization they do not belong to sees
-- nothing of any (the bridge refuses the request: 0115). Also narrowed here:
-- core.current_user_super_admin_org_ids and core.is_super_admin. Not narrowed: the ownership
-- functions that name their organization and read the owner's raw row (transfer_super_admin,
-- restore_organization), which act on the organization they are given.
--
-- Rules of the expiry itself:
--   * the super_admin's membership never expires (a check constraint: transfer_super_admin
--     clears the new owner's expiry), so an organization always keeps its owner;
--   * only public.set_membership_expiry writes it: an organization membership's by the
--     super_admin, a unit membership's by the super_admin or a manager whose reach covers its
--     role (core.may_grant_role); no RLS caller holds the column privilege on expires_at;
--   * it must lie in the future (null: never); every change is in the audit log (the
--     memberships' audit triggers);
--   * re-assigning a unit membership (assign_user_to_unit, a unit invitation) starts it afresh,
--     without an expiry.

-- =============================================================================================
-- The columns
-- =============================================================================================
alter table core.memberships
    add column expires_at timestamptz,
    add constraint memberships_super_admin_never_expires check (not is_super_admin or expires_at is null);

alter table core.unit_memberships
    add column expires_at timestamptz;

comment on column core.memberships.expires_at is
    'SMTA: when the membership stops counting (null: never); set with public.set_membership_expiry';
comment on column core.unit_memberships.expires_at is
    'SMTA: when the unit membership stops counting (null: never); set with public.set_membership_expiry';

-- The gate's lookups read the caller's memberships from these indexes alone (index-only
-- scans): they now carry the expiry too.
drop index core.idx_memberships_user_id;
create index idx_memberships_user_id on core.memberships (user_id)
    include (organization_id, role_id, is_super_admin, expires_at) where not is_deleted;
drop index core.idx_unit_memberships_user_id;
create index idx_unit_memberships_user_id on core.unit_memberships (user_id)
    include (unit_id, role_id, expires_at) where not is_deleted;

-- =============================================================================================
-- The active organization
-- =============================================================================================

-- core.current_organization_id(): the organization the request is narrowed to, or null: the
-- transaction-local setting app.current_organization_id (core.set_caller), else PostgREST's
-- request header X-SMTA-Organization. Callable by the runtime roles (it only narrows what the
-- caller sees). A plain SQL function, so PostgreSQL inlines it into the helpers' plans. Raises 22P02
-- when the value is not a uuid (a malformed header fails loudly rather than being ignored).
create or replace function core.current_organization_id()
returns uuid
language sql
stable
as $$
    select coalesce(
        nullif(pg_catalog.current_setting('app.current_organization_id', true), ''),
        nullif(pg_catalog.current_setting('request.headers', true), '')::pg_catalog.json
            operator(pg_catalog.->>) 'x-smta-organization'
    )::pg_catalog.uuid
$$;

revoke all on function core.current_organization_id() from public, anon;
grant execute on function core.current_organization_id() to app_user, app_admin;

comment on function core.current_organization_id() is
    'SMTA: the request''s active organization (X-SMTA-Organization), which narrows the caller''s memberships; null when none';

-- =============================================================================================
-- The gate helpers
-- =============================================================================================

-- core.current_user_org_ids(): ids of the live organizations where the caller has a live,
-- unexpired membership, within the active organization if there is one (empty when nobody is
-- authenticated). Callable by the runtime roles; raises nothing.
create or replace function core.current_user_org_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
    v_active constant uuid := core.current_organization_id();
begin
    return (
        select coalesce(pg_catalog.array_agg(m.organization_id), '{}')
        from core.memberships m
        where m.user_id = v_me
          and not m.is_deleted
          and (m.expires_at is null or m.expires_at > pg_catalog.now())
          and (v_active is null or m.organization_id = v_active)
          and not exists (select 1 from core.organizations o where o.id = m.organization_id and o.is_deleted)
    );
end
$$;

-- core.current_user_managed_org_ids(): ids of the live organizations the caller manages (holds
-- the super_admin membership, or a live, unexpired membership whose role is super_admin or
-- manager), within the active organization if there is one. Callable by the runtime roles;
-- raises nothing.
create or replace function core.current_user_managed_org_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
    v_active constant uuid := core.current_organization_id();
begin
    return (
        select coalesce(pg_catalog.array_agg(m.organization_id), '{}')
        from core.memberships m
        join core.roles r on r.id = m.role_id
        where m.user_id = v_me
          and not m.is_deleted
          and (m.expires_at is null or m.expires_at > pg_catalog.now())
          and (m.is_super_admin or r.name in ('super_admin', 'manager'))
          and (v_active is null or m.organization_id = v_active)
          and not exists (select 1 from core.organizations o where o.id = m.organization_id and o.is_deleted)
    );
end
$$;

-- core.current_user_super_admin_org_ids(): ids of the live organizations whose super_admin the
-- caller is (an owner's membership never expires), within the active organization if there is
-- one. Callable by the runtime roles; raises nothing.
create or replace function core.current_user_super_admin_org_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
    v_active constant uuid := core.current_organization_id();
begin
    return (
        select coalesce(pg_catalog.array_agg(m.organization_id), '{}')
        from core.memberships m
        where m.user_id = v_me
          and m.is_super_admin
          and not m.is_deleted
          and (v_active is null or m.organization_id = v_active)
          and not exists (select 1 from core.organizations o where o.id = m.organization_id and o.is_deleted)
    );
end
$$;

-- core.is_super_admin(p_org_id): is the caller the super_admin of this live organization (and
-- it the active organization, if there is one)? Callable by the runtime roles; raises nothing.
create or replace function core.is_super_admin(p_org_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1
        from core.memberships m
        join core.organizations o on o.id = m.organization_id
        where m.organization_id = p_org_id
          and m.user_id = core.get_current_user_id()
          and m.is_super_admin
          and not m.is_deleted
          and not o.is_deleted
          and (core.current_organization_id() is null or m.organization_id = core.current_organization_id())
    )
$$;

-- core.current_user_unit_ids(): ids of the live units the caller reaches: those where they
-- hold a live, unexpired unit membership while a live, unexpired member of the unit's live
-- organization (the active one, if there is one), and every live unit below them. Callable by
-- the runtime roles; raises nothing.
create or replace function core.current_user_unit_ids()
returns uuid[]
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
    v_active constant uuid := core.current_organization_id();
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
              and (um.expires_at is null or um.expires_at > pg_catalog.now())
              and not u.is_deleted
              and not o.is_deleted
              and not m.is_deleted
              and (m.expires_at is null or m.expires_at > pg_catalog.now())
              and (v_active is null or u.organization_id = v_active)
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

-- core.current_user_unit_roles(): every live unit the caller reaches, with the role that
-- applies there: their own unit membership's, else the nearest unit above them they belong to
-- (live and unexpired unit and organization memberships only, within the active organization
-- if there is one). Internal to the unit API.
-- Raises nothing.
create or replace function core.current_user_unit_roles()
returns table (unit_id uuid, role_id uuid)
language sql
stable
set search_path = ''
as $$
  with recursive own as (
    select um.unit_id, um.role_id
    from core.unit_memberships as um
    join core.units as u on u.id = um.unit_id
    join core.organizations as o on o.id = u.organization_id
    join core.memberships as m
      on m.user_id = um.user_id
     and m.organization_id = u.organization_id
    where um.user_id = core.get_current_user_id()
      and not um.is_deleted
      and (um.expires_at is null or um.expires_at > pg_catalog.now())
      and not u.is_deleted
      and not o.is_deleted
      and not m.is_deleted
      and (m.expires_at is null or m.expires_at > pg_catalog.now())
      and (core.current_organization_id() is null or u.organization_id = core.current_organization_id())
  ),
  reach (unit_id, role_id) as (
    select own.unit_id, own.role_id from own
    union
    -- a sub-unit inherits, unless the caller holds a membership of their own there
    select child.id, reach.role_id
    from reach
    join core.units as child on child.parent_unit_id = reach.unit_id
    where not child.is_deleted
      and not exists (select 1 from own where own.unit_id = child.id)
  ) cycle unit_id set in_cycle using path -- 0004 refuses cycles; this only bounds the walk
  select reach.unit_id, reach.role_id from reach where not reach.in_cycle;
$$;

-- core.unit_membership_role_for(p_unit_id): the name of the caller's role in a live unit:
-- their own live, unexpired unit membership's, else that of the nearest unit above it they
-- belong to; null when none, when their organization membership is not live, or when the unit
-- is outside the active organization. Callable by the runtime roles; raises nothing.
create or replace function core.unit_membership_role_for(p_unit_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
    with recursive chain (id, parent_unit_id, organization_id, depth) as (
        select u.id, u.parent_unit_id, u.organization_id, 0
        from core.units u
        where u.id = p_unit_id and not u.is_deleted
        union
        select p.id, p.parent_unit_id, p.organization_id, c.depth + 1
        from core.units p
        join chain c on p.id = c.parent_unit_id
        where not p.is_deleted
    ) cycle id set in_cycle using path -- 0004 refuses cycles; this only guarantees termination
    select r.name
    from chain c
    join core.organizations o on o.id = c.organization_id
    join core.unit_memberships um on um.unit_id = c.id
    join core.memberships m on m.user_id = um.user_id and m.organization_id = c.organization_id
    join core.roles r on r.id = um.role_id
    where um.user_id = core.get_current_user_id()
      and not um.is_deleted
      and (um.expires_at is null or um.expires_at > pg_catalog.now())
      and not m.is_deleted
      and (m.expires_at is null or m.expires_at > pg_catalog.now())
      and not o.is_deleted
      and (core.current_organization_id() is null or c.organization_id = core.current_organization_id())
    order by c.depth
    limit 1
$$;

-- core.is_org_member(p_org_id): whether the caller holds a live, unexpired membership of this
-- live organization (and it is the active organization, if there is one). Callable by the
-- runtime roles; raises nothing.
create or replace function core.is_org_member(p_org_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1
        from core.memberships m
        join core.organizations o on o.id = m.organization_id
        where m.organization_id = p_org_id
          and m.user_id = core.get_current_user_id()
          and not m.is_deleted
          and (m.expires_at is null or m.expires_at > pg_catalog.now())
          and not o.is_deleted
          and (core.current_organization_id() is null or m.organization_id = core.current_organization_id())
    )
$$;

-- core.get_org_role(p_org_id): the name of the caller's role in this live organization, from
-- their live, unexpired membership (within the active organization, if there is one); null
-- otherwise. Callable by the runtime roles; raises nothing.
create or replace function core.get_org_role(p_org_id uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select r.name
    from core.memberships m
    join core.organizations o on o.id = m.organization_id
    join core.roles r on r.id = m.role_id
    where m.organization_id = p_org_id
      and m.user_id = core.get_current_user_id()
      and not m.is_deleted
      and (m.expires_at is null or m.expires_at > pg_catalog.now())
      and not o.is_deleted
      and (core.current_organization_id() is null or m.organization_id = core.current_organization_id())
$$;

-- =============================================================================================
-- Other users' memberships: units, the seat limit, ownership
-- =============================================================================================

-- core.check_unit_member_write (0016): the checks shared by the unit-membership API writes: a
-- user id, not the caller's own unit membership (but for the super_admin), a live, unexpired
-- member of the organization, a role the caller may give. Internal. Raises 22023, 42501,
-- P0001 'User is not a member of the organization', and what core.assert_assignable_role
-- raises.
create or replace function core.check_unit_member_write(p_org_id uuid, p_user_id uuid, p_role_id uuid)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_user_id is null then
    raise exception 'User id is required'
      using errcode = '22023';
  end if;

  if p_user_id = core.get_current_user_id() and not core.is_super_admin(p_org_id) then
    raise exception 'You cannot change your own unit membership'
      using errcode = '42501';
  end if;

  if not exists (
    select 1 from core.memberships as m
    where m.user_id = p_user_id
      and m.organization_id = p_org_id
      and not m.is_deleted
      and (m.expires_at is null or m.expires_at > pg_catalog.now())
  ) then
    raise exception 'User is not a member of the organization'
      using errcode = 'P0001';
  end if;

  perform core.assert_assignable_role(p_org_id, p_role_id);
end;
$$;

-- core.guard_direct_membership_write() (0050), with the expiry: a unit membership written
-- directly needs a live, unexpired organization membership. AFTER INSERT OR UPDATE on
-- core.memberships and core.unit_memberships, for RLS callers only (see 0050 for the rules).
-- Raises 42501, P0002, P0001.
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
    v_role_changed := tg_op = 'INSERT' or new.role_id is distinct from old.role_id;

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
        if not v_org_id = any (core.current_user_super_admin_org_ids()) then
            raise exception 'Only the organization''s super_admin can change memberships'
                using errcode = '42501';
        end if;
        if tg_op = 'INSERT' and not core.is_known_user(new.user_id) then
            raise exception 'User not found' using errcode = 'P0002';
        end if;
        return null;
    end if;

    v_org_id := core.get_org_id_for_unit(new.unit_id);
    if v_org_id is null then
        raise exception 'Unit not found' using errcode = 'P0002';
    end if;
    if (new.user_id = v_me or (tg_op = 'UPDATE' and old.user_id = v_me))
       and not v_org_id = any (core.current_user_super_admin_org_ids()) then
        raise exception 'You cannot change your own membership' using errcode = '42501';
    end if;
    if not v_org_id = any (core.current_user_managed_org_ids()) then
        raise exception 'Only the organization''s super_admin and managers can change unit memberships'
            using errcode = '42501';
    end if;
    if v_role_changed and not core.may_grant_role(v_org_id, new.role_id) then
        raise exception 'You cannot give a role above your own' using errcode = '42501';
    end if;
    if not new.is_deleted
       and not exists (
           select 1 from core.memberships m
           where m.user_id = new.user_id
             and m.organization_id = v_org_id
             and not m.is_deleted
             and (m.expires_at is null or m.expires_at > pg_catalog.now())
       ) then
        raise exception 'User is not a member of the organization';
    end if;
    return null;
end
$$;

-- core.put_unit_membership (0016), started afresh: makes a user a member of a unit with a
-- role, reviving a removed or expired unit membership (its expiry cleared). Internal. Raises
-- nothing of its own.
create or replace function core.put_unit_membership(p_user_id uuid, p_unit_id uuid, p_role_id uuid, p_actor_id uuid)
returns void
language sql
set search_path = ''
as $$
  insert into core.unit_memberships (user_id, unit_id, role_id, created_by, updated_by)
  values (p_user_id, p_unit_id, p_role_id, p_actor_id, p_actor_id)
  on conflict (user_id, unit_id) do update
    set role_id = excluded.role_id,
        is_deleted = false,
        deleted_at = null,
        deleted_by = null,
        expires_at = null,
        updated_by = p_actor_id;
$$;

-- core.check_seat_limit (0040): raises when the organization's live, unexpired members
-- already fill its seat limit. Serializes the organization's seat writers with an advisory
-- lock. Internal. Raises P0001.
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

  if (select pg_catalog.count(*) from core.memberships as m
      where m.organization_id = p_org_id
        and not m.is_deleted
        and (m.expires_at is null or m.expires_at > pg_catalog.now())) >= v_limit then
    raise exception 'The organization has reached its seat limit of % members', v_limit
      using errcode = 'P0001';
  end if;
end;
$$;

-- core.enforce_membership_seat_limit() (0050): AFTER INSERT OR UPDATE OF is_deleted,
-- expires_at on core.memberships: a membership that starts counting (a new live row, a removed
-- one revived, an expired one renewed) must fit the seat limit, counting itself. Writers are
-- serialized by the advisory lock of core.check_seat_limit while they count. Internal
-- (trigger). Raises P0001 when the organization is over its limit.
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

  if (select pg_catalog.count(*) from core.memberships as m
      where m.organization_id = new.organization_id
        and not m.is_deleted
        and (m.expires_at is null or m.expires_at > pg_catalog.now())) > v_limit then
    raise exception 'The organization has reached its seat limit of % members', v_limit
      using errcode = 'P0001';
  end if;
  return null;
end;
$$;

drop trigger trg_memberships_seat_limit on core.memberships;
create trigger trg_memberships_seat_limit after insert or update of is_deleted, expires_at on core.memberships
    for each row execute function core.enforce_membership_seat_limit();

-- public.transfer_super_admin (0011): the current super_admin hands the organization to
-- another live, unexpired member, whose expiry is cleared (the owner's membership never
-- expires). The organization row is locked first, so concurrent transfers run one after the
-- other. Raises 42501 when not signed in or not the super_admin; 22023 for missing ids; P0002
-- when the organization is not found or the target is not a live member; P0001 for oneself.
create or replace function public.transfer_super_admin(p_org_id uuid, p_new_super_admin_user_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_current core.memberships%rowtype;
  v_target core.memberships%rowtype;
begin
  if p_org_id is null or p_new_super_admin_user_id is null then
    raise exception 'Organization id and new super_admin user id are required'
      using errcode = '22023';
  end if;

  perform 1
  from core.organizations as o
  where o.id = p_org_id
    and not o.is_deleted
  for update;

  if not found then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  -- Read the memberships only after the lock: a transfer that committed while this one
  -- waited is visible now (each statement takes a fresh snapshot under READ COMMITTED).
  select m.* into v_current
  from core.memberships as m
  where m.organization_id = p_org_id
    and m.user_id = v_user_id
    and not m.is_deleted
  for update;

  if not found then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  if not v_current.is_super_admin then
    raise exception 'Only the current super_admin can transfer ownership'
      using errcode = '42501';
  end if;

  if p_new_super_admin_user_id = v_user_id then
    raise exception 'Cannot transfer super_admin to yourself'
      using errcode = 'P0001';
  end if;

  select m.* into v_target
  from core.memberships as m
  where m.organization_id = p_org_id
    and m.user_id = p_new_super_admin_user_id
    and not m.is_deleted
    and (m.expires_at is null or m.expires_at > pg_catalog.now())
  for update;

  if not found then
    raise exception 'Target user is not a member of this organization'
      using errcode = 'P0002';
  end if;

  -- Demote first, then promote: one live super_admin per organization is a unique index.
  update core.memberships as m
  set is_super_admin = false,
      role_id = v_target.role_id,
      updated_by = v_user_id
  where m.id = v_current.id;

  update core.memberships as m
  set is_super_admin = true,
      role_id = v_current.role_id,
      expires_at = null,
      updated_by = v_user_id
  where m.id = v_target.id;
end;
$$;

-- =============================================================================================
-- The caller's organizations and permissions, the member lists, the expiry
-- =============================================================================================

-- public.list_my_organizations (0011): the live organizations where the caller holds a live,
-- unexpired membership (only the active one, if there is one), with their role. Raises 42501
-- when not signed in.
create or replace function public.list_my_organizations()
returns table (
  id uuid,
  name text,
  description text,
  role text,
  role_label text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
begin
  -- o.description is the organization's; r.description is the role's label.
  return query
  select o.id, o.name, o.description, r.name, r.description
  from core.memberships as m
  join core.organizations as o on o.id = m.organization_id
  join core.roles as r on r.id = m.role_id
  where m.user_id = v_user_id
    and not m.is_deleted
    and (m.expires_at is null or m.expires_at > pg_catalog.now())
    and not o.is_deleted
    and (core.current_organization_id() is null or m.organization_id = core.current_organization_id())
  order by o.name, o.id;
end;
$$;

-- public.list_organization_members (0050), with each membership's id and expiry: the
-- organization's members (expired ones too, with their past expiry, until renewed or removed),
-- the owner first. The result gains two trailing columns, membership_id and expires_at (the
-- id is what public.set_membership_expiry takes), so the function is recreated; its grants and
-- comment are set again below.
drop function public.list_organization_members(uuid);
create function public.list_organization_members(p_id uuid)
returns table (
  user_id uuid,
  email text,
  first_name text,
  last_name text,
  role text,
  role_label text,
  is_super_admin boolean,
  membership_id uuid,
  expires_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
begin
  if not core.is_org_member(p_id) then
    return;
  end if;

  return query
  select m.user_id,
         case when m.consented_at is not null or m.user_id = v_user_id then um.email end,
         case when m.consented_at is not null or m.user_id = v_user_id then um.first_name end,
         case when m.consented_at is not null or m.user_id = v_user_id then um.last_name end,
         r.name, r.description, m.is_super_admin, m.id, m.expires_at
  from core.memberships as m
  join core.roles as r on r.id = m.role_id
  left join core.users_meta as um on um.id = m.user_id and not um.is_deleted
  where m.organization_id = p_id
    and not m.is_deleted
  -- by the email shown, so that the order reveals nothing of a hidden one
  order by 7 desc, 2, 1;
end;
$$;

revoke all on function public.list_organization_members(uuid) from public, anon;
grant execute on function public.list_organization_members(uuid) to app_user;

-- public.list_unit_members (0050): who reaches the unit now: its live, unexpired unit
-- memberships whose holders are live, unexpired members of the organization. Any live member
-- of the organization. Raises 42501 when not signed in.
create or replace function public.list_unit_members(p_unit_id uuid)
returns table (
  user_id uuid,
  email text,
  first_name text,
  last_name text,
  role text,
  role_label text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
begin
  return query
  select um.user_id,
         case when m.consented_at is not null or um.user_id = v_user_id then meta.email end,
         case when m.consented_at is not null or um.user_id = v_user_id then meta.first_name end,
         case when m.consented_at is not null or um.user_id = v_user_id then meta.last_name end,
         r.name, r.description
  from core.units as u
  join core.unit_memberships as um on um.unit_id = u.id
  join core.memberships as m
    on m.user_id = um.user_id
   and m.organization_id = u.organization_id
   and not m.is_deleted
   and (m.expires_at is null or m.expires_at > pg_catalog.now())
  join core.roles as r on r.id = um.role_id
  left join core.users_meta as meta on meta.id = um.user_id
  where u.id = p_unit_id
    and not u.is_deleted
    and u.organization_id = any (core.current_user_org_ids())
    and not um.is_deleted
    and (um.expires_at is null or um.expires_at > pg_catalog.now())
  -- by the email shown, so that the order reveals nothing of a hidden one
  order by 2, 1;
end;
$$;

-- public.set_membership_expiry: sets or clears when a membership stops counting.
-- p_membership_id names an organization membership (list_organization_members'
-- membership_id) or a unit membership; p_expires_at must be in the future, or null (never).
-- Renewing an expired organization membership must fit the seat limit.
-- An organization membership: the organization's super_admin, for any membership but their
-- own (which never expires). A unit membership: the super_admin, or a manager for a unit
-- membership whose role they may give (not their own). Raises 42501 when not signed in or not
-- allowed; 22023 for a missing id or an expiry not in the future; P0002 'Membership not
-- found' (also for another organization's, so its existence does not leak); P0001 when
-- renewing exceeds the seat limit.
create or replace function public.set_membership_expiry(p_membership_id uuid, p_expires_at timestamptz)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_membership core.memberships%rowtype;
  v_unit_membership core.unit_memberships%rowtype;
  v_org_id uuid;
begin
  if p_membership_id is null then
    raise exception 'Membership id is required'
      using errcode = '22023';
  end if;
  if p_expires_at is not null and p_expires_at <= pg_catalog.now() then
    raise exception 'The expiry must be in the future (null: never)'
      using errcode = '22023';
  end if;

  select m.* into v_membership
  from core.memberships as m
  where m.id = p_membership_id
    and not m.is_deleted
    and m.organization_id = any (core.current_user_org_ids())
  for update;

  if found then
    if not (v_membership.organization_id = any (core.current_user_super_admin_org_ids())) then
      raise exception 'Only the organization''s super_admin can set a membership''s expiry'
        using errcode = '42501';
    end if;
    if v_membership.is_super_admin then
      raise exception 'The super_admin''s membership never expires'
        using errcode = '42501';
    end if;
    update core.memberships as m
    set expires_at = p_expires_at,
        updated_by = v_user_id
    where m.id = v_membership.id;
    return;
  end if;

  select um.* into v_unit_membership
  from core.unit_memberships as um
  join core.units as u on u.id = um.unit_id
  where um.id = p_membership_id
    and not um.is_deleted
    and not u.is_deleted
    and u.organization_id = any (core.current_user_org_ids())
  for update of um;

  if not found then
    raise exception 'Membership not found'
      using errcode = 'P0002';
  end if;
  select u.organization_id into v_org_id from core.units as u where u.id = v_unit_membership.unit_id;
  if not (v_org_id = any (core.current_user_managed_org_ids())) then
    raise exception 'Only the organization''s super_admin and managers can set a unit membership''s expiry'
      using errcode = '42501';
  end if;
  if v_unit_membership.user_id = v_user_id and not (v_org_id = any (core.current_user_super_admin_org_ids())) then
    raise exception 'You cannot change your own unit membership'
      using errcode = '42501';
  end if;
  if not core.may_grant_role(v_org_id, v_unit_membership.role_id) then
    raise exception 'You cannot change a membership whose role is above your own'
      using errcode = '42501';
  end if;
  update core.unit_memberships as um
  set expires_at = p_expires_at,
      updated_by = v_user_id
  where um.id = v_unit_membership.id;
end;
$$;

revoke all on function public.set_membership_expiry(uuid, timestamptz) from public, anon;
grant execute on function public.set_membership_expiry(uuid, timestamptz) to app_user;

-- =============================================================================================
-- Members
-- =============================================================================================

comment on function public.list_organization_members(uuid) is
$$Lists the members of an organization with their profile, role and expiry.
A member who was added by user id alone and has not joined by their own act (accepting an invitation) is listed with null email and names; so is a member who has no profile. A member whose membership has expired is still listed, with its past expires_at, until renewed (set_membership_expiry) or removed; the gate already treats them as absent.
Callers: any live member of the organization.
Returns: one row per member (user_id, email, first_name, last_name, role, role_label, is_super_admin, membership_id, expires_at), the owner first, then by email; no rows when the caller is not a live member.
Errors: 42501 when not signed in.$$;

comment on function public.set_membership_expiry(uuid, timestamptz) is
$$Sets when an organization or unit membership stops counting, or clears it (null: never).
From p_expires_at on, the membership is treated as absent everywhere (policies, app tables, the API) without any scheduled job; renewing it restores access (an organization membership must then fit the seat limit). The change is in the audit log.
Callers: an organization membership: the organization's super_admin (never for their own, which never expires); a unit membership: the super_admin, or a manager for a membership whose role they may give (not their own).
Returns: nothing.
Errors: 42501 when not signed in or not allowed; 22023 for a missing id or an expiry not in the future; P0002 when the membership does not exist or is another organization's; P0001 when renewing exceeds the seat limit.$$;
