-- 0050_one_rule_per_path: every path to a table grants the same rights. A direct INSERT or
-- UPDATE that row-level security lets through grants no more than the API function that does
-- the same thing; where only the API keeps an invariant (roles, invitation state, soft delete,
-- tracking columns), the direct path is closed. Schema/README.md ("Who may write what") states
-- the rules table by table; Tests/SQL/authz/matrix.json declares them for the test suite.
--
-- What this migration changes, and why (each item was reproduced as an attacker would, as
-- authenticated with the adapter's identity settings, under both adapters):
--   1. memberships are written directly by the super_admin only, as through the API (a
--      manager could rewrite roles and add members at any role);
--   2. the role ceiling: nobody invites at, assigns or grants a role above their own
--      (core.may_grant_role), on every path;
--   3. soft delete and restore go through the API only: no RLS caller holds the column
--      privilege on is_deleted / deleted_at / deleted_by (a bare UPDATE soft-deleted units);
--   4. adding or removing a member, by any path, cancels that email's pending invitations to
--      the organization, so no old token re-admits anyone;
--   5. a direct UPDATE can only end an invitation early, never revive or extend it;
--   6. core.get_org_id_for_unit answers only for units the caller can see;
--   7. consent: a member added by id alone (no invitation, no shared organization) stays
--      anonymous to the organization (core.memberships.consented_at);
--   8. core.log_audit is for app_admin only: audit rows come from triggers and API functions;
--   9. (with 8) no existence oracle through log_audit;
--  10. created_by / updated_by / deleted_by always come from the caller's identity;
--  11. the seat limit is checked after row-level security, so an outsider learns nothing;
--  13. service_role can name app tables (USAGE on schema app), and the organization's
--      super_admin and managers invite into any of its units.
-- (Item 12, role names unique per organization, stays a documented delta: SMTA 0.8 apps and
-- upstream's fixtures upsert roles with ON CONFLICT (name), which needs the global unique
-- constraint roles_name_key; see Schema/README.md.)
--
-- "Privileged" is core.current_role_is_privileged() (0004): the current role is a superuser or
-- BYPASSRLS, i.e. the owner inside SECURITY DEFINER API functions, service_role, or an
-- operator. Those callers check their callers themselves; the rules below bind RLS callers.

-- =============================================================================================
-- Tracking columns come from the caller's identity (item 10)
-- =============================================================================================
-- utils.set_tracking_columns(): BEFORE INSERT OR UPDATE trigger of every table with tracking
-- columns. For RLS callers created_by, updated_by and deleted_by are the caller's identity,
-- whatever the statement says; created_by and created_at never change after insert; deleted_at
-- and deleted_by are stamped when a row is soft-deleted and cleared when it is restored.
-- Privileged callers (API functions, operators) may name the actor themselves (an invitation
-- accepted records its inviter as created_by); a column they leave unset gets the identity.
-- Runs as the caller (it must see the caller's role); raises nothing.
create or replace function utils.set_tracking_columns()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_actor uuid := core.get_current_user_id();
    v_trusted boolean := core.current_role_is_privileged();
begin
    if tg_op = 'INSERT' then
        if v_trusted then
            new.created_by := coalesce(new.created_by, v_actor);
            new.updated_by := coalesce(new.updated_by, v_actor, new.created_by);
        else
            new.created_by := v_actor;
            new.updated_by := v_actor;
        end if;
        if new.is_deleted then
            new.deleted_at := case when v_trusted then coalesce(new.deleted_at, pg_catalog.now()) else pg_catalog.now() end;
            new.deleted_by := case when v_trusted then coalesce(new.deleted_by, v_actor) else v_actor end;
        end if;
        return new;
    end if;

    new.created_by := old.created_by;
    new.created_at := old.created_at;
    if not v_trusted then
        new.updated_by := v_actor;
    elsif new.updated_by is not distinct from old.updated_by and v_actor is not null then
        -- A statement that does not name updated_by carries the old value over: replace it.
        new.updated_by := v_actor;
    end if;

    if new.is_deleted and not old.is_deleted then
        new.deleted_at := case when v_trusted then coalesce(new.deleted_at, pg_catalog.now()) else pg_catalog.now() end;
        new.deleted_by := case when v_trusted then coalesce(new.deleted_by, v_actor) else v_actor end;
    elsif old.is_deleted and not new.is_deleted then
        new.deleted_at := null;
        new.deleted_by := null;
    elsif not v_trusted then
        new.deleted_at := old.deleted_at;
        new.deleted_by := old.deleted_by;
    end if;
    return new;
end
$$;

-- =============================================================================================
-- Column privileges: what a direct write may name (items 1, 3, 5)
-- =============================================================================================
-- Table-level INSERT/UPDATE would let a client name any column, is_deleted included, whatever
-- the statement's shape (WHERE id = …, no WHERE, WHERE CURRENT OF). Column privileges make
-- the rule independent of the shape: a statement naming another column fails with 42501
-- before any row is read. Soft delete and restore are not among them anywhere: they are the
-- API's (delete_*/restore_*, remove_*/leave_organization), which keeps what goes with them
-- (sub-units, unit memberships, invitations). Tracking columns may be named on insert (SMTA
-- 0.8's own statements do) but the trigger above overwrites them.
revoke insert, update on core.organizations from app_user;
grant insert (id, name, description, created_by, updated_by) on core.organizations to app_user;
grant update (name, description) on core.organizations to app_user;

revoke insert, update on core.units from app_user;
grant insert (id, organization_id, parent_unit_id, name, description, created_by, updated_by) on core.units to app_user;
grant update (name, description, parent_unit_id) on core.units to app_user;

revoke insert, update on core.memberships from app_user;
grant insert (id, user_id, organization_id, role_id, is_super_admin, created_by, updated_by) on core.memberships to app_user;
-- is_super_admin stays nameable so that a second owner still meets the partial unique index
-- (23505) first; core.guard_direct_membership_write refuses every change of the flag.
grant update (role_id, is_super_admin) on core.memberships to app_user;

revoke insert, update on core.unit_memberships from app_user;
grant insert (id, user_id, unit_id, role_id, created_by, updated_by) on core.unit_memberships to app_user;
grant update (role_id) on core.unit_memberships to app_user;

revoke insert, update on core.organization_files from app_user;
grant insert (id, file_url, file_type, file_specs, file_size, organization_id, created_by, updated_by)
    on core.organization_files to app_user;
grant update (file_specs, file_size) on core.organization_files to app_user;

-- core.invitations keeps update (status, expires_at, metadata) from 0005; the trigger below
-- allows only changes that end an invitation early.

-- =============================================================================================
-- The role ceiling (item 2)
-- =============================================================================================
-- core.may_grant_role(p_org_id, p_role_id): may the caller give this role to someone in this
-- organization (invite at it, assign it, grant it)? Nobody gives a role above their own:
--   * the super_admin (holder of the is_super_admin membership) may give every role;
--   * a manager (or a holder of the super_admin role without the flag) may give every role but
--     the super_admin role: manager, team and the organization's own roles, which carry no
--     power in SMTA's gate;
--   * anyone else may give only the very role they hold.
-- Whether the role is usable in the organization at all (global or its own, not deleted, and
-- never super_admin through the API) is core.assert_assignable_role's question (0012). False
-- for a caller who is no live member of a live organization, or an unknown role. Callable by
-- the runtime roles (the direct-write guard runs as the caller); it tells the caller only about
-- their own membership. Raises nothing.
create or replace function core.may_grant_role(p_org_id uuid, p_role_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me uuid := core.get_current_user_id();
    v_mine record;
    v_target core.roles;
begin
    if v_me is null or p_org_id is null or p_role_id is null then
        return false;
    end if;

    select m.is_super_admin, m.role_id, r.name, r.organization_id as role_org_id
    into v_mine
    from core.memberships as m
    join core.organizations as o on o.id = m.organization_id and not o.is_deleted
    join core.roles as r on r.id = m.role_id
    where m.user_id = v_me
      and m.organization_id = p_org_id
      and not m.is_deleted;
    if not found then
        return false;
    end if;

    select * into v_target from core.roles as r where r.id = p_role_id;
    if not found then
        return false;
    end if;

    if v_mine.is_super_admin then
        return true;
    end if;
    if v_mine.role_org_id is null and v_mine.name in ('super_admin', 'manager') then
        return not (v_target.organization_id is null and v_target.name = 'super_admin');
    end if;
    return v_mine.role_id = p_role_id;
end
$$;

revoke all on function core.may_grant_role(uuid, uuid) from public, anon;
grant execute on function core.may_grant_role(uuid, uuid) to app_user, app_admin;

-- core.assert_assignable_role (0012), now with the ceiling: the role must exist, be usable in
-- the organization, not be super_admin, and be within the caller's reach. Returns its name.
-- Internal. Raises 22023 (no role id), P0002 (no such live role, or another organization's),
-- 42501 (the super_admin role; a role above the caller's own).
create or replace function core.assert_assignable_role(p_org_id uuid, p_role_id uuid)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_name text;
begin
  if p_role_id is null then
    raise exception 'Role id is required'
      using errcode = '22023';
  end if;

  select r.name
  into v_name
  from core.roles as r
  where r.id = p_role_id
    and not r.is_deleted
    and (r.organization_id is null or r.organization_id = p_org_id);

  if v_name is null then
    raise exception 'Role not found'
      using errcode = 'P0002';
  end if;

  if v_name = 'super_admin' then
    raise exception 'Cannot grant the super_admin role. Use public.transfer_super_admin() to transfer ownership.'
      using errcode = '42501';
  end if;

  if not core.may_grant_role(p_org_id, p_role_id) then
    raise exception 'You cannot give a role above your own'
      using errcode = '42501';
  end if;

  return v_name;
end;
$$;

-- =============================================================================================
-- Memberships written directly by the super_admin only (item 1)
-- =============================================================================================
-- The API adds members and changes their roles for the super_admin only
-- (add_member_to_organization, update_member_role); the direct path now says the same.
drop policy "managers add members" on core.memberships;
drop policy "managers update memberships" on core.memberships;

-- Only the super_admin adds members directly (core.guard_direct_membership_write adds the
-- finer rules: not oneself, never the is_super_admin flag, a known user, consent recorded).
create policy "the super_admin adds members" on core.memberships
    for insert to app_user
    with check (organization_id = any ((select core.current_user_super_admin_org_ids())::uuid[]));

-- Only the super_admin changes a membership directly, and only its role.
create policy "the super_admin changes members' roles" on core.memberships
    for update to app_user
    using (organization_id = any ((select core.current_user_super_admin_org_ids())::uuid[]))
    with check (organization_id = any ((select core.current_user_super_admin_org_ids())::uuid[]));

-- core.guard_direct_membership_write(): AFTER INSERT OR UPDATE on core.memberships and
-- core.unit_memberships, for RLS callers only. The policies limit memberships to the
-- super_admin and unit memberships to the super_admin and managers; this adds what a policy
-- cannot say with a clear message:
--   * nobody changes their own membership or unit membership (the super_admin, who reaches
--     every unit anyway, may place themselves in the organization's units);
--   * is_super_admin never changes here (public.transfer_super_admin moves it), and the
--     super_admin's own membership row is left alone;
--   * a new member is a known user (a core.users_meta row), as add_member_to_organization says;
--   * the role ceiling (core.may_grant_role); the super_admin may also give the super_admin
--     *role* (a co-administrator without the flag), which SMTA 0.8's own suite does;
--   * a unit membership is only for a live member of the unit's organization.
-- AFTER the row is written, so that a plain duplicate still reports 23505 first; a raise here
-- undoes the statement all the same. SECURITY INVOKER: it must see the caller's role.
-- Raises 42501 (not allowed), P0002 (unknown user or unit) or P0001 (not a member).
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
           where m.user_id = new.user_id and m.organization_id = v_org_id and not m.is_deleted
       ) then
        raise exception 'User is not a member of the organization';
    end if;
    return null;
end
$$;

-- core.is_known_user(p_user_id): does a live core.users_meta row exist for this user? The
-- direct-write guard asks it, since an RLS caller cannot read profiles of non-colleagues. It
-- answers only callers who are the super_admin of a live organization (the only ones who may
-- add members), and tells them exactly what add_member_to_organization's "User not found" tells
-- them (SMTA 0.8's contract): user ids are not tenant data. Anyone else gets false. Callable by
-- the runtime roles; raises nothing.
create or replace function core.is_known_user(p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select pg_catalog.cardinality(core.current_user_super_admin_org_ids()) > 0
       and exists (select 1 from core.users_meta um where um.id = p_user_id and not um.is_deleted)
$$;

revoke all on function core.is_known_user(uuid) from public, anon;
grant execute on function core.is_known_user(uuid) to app_user, app_admin;

-- =============================================================================================
-- Consent: members added by id stay anonymous (item 7)
-- =============================================================================================
-- Adding someone by user id needs no consent from them (SMTA 0.8's add_member_to_organization
-- and its suite do it), but it must not hand their email and name to an organization they
-- never chose: with Payload's name-based ids, user ids can even be computed. So a membership
-- records whether its member consented to being seen by that organization:
--   consented_at not null: they created the organization, accepted an invitation, or were
--   added by someone who already shared a live organization with them in which they had
--   consented (so nothing new is revealed); operators (privileged writes) are trusted;
--   consented_at null: added by id alone. Their user id is listed, their email and names are
--   not (list_organization_members, list_unit_members, core.users_meta), until they join
--   through an invitation — or they leave.
alter table core.memberships add column consented_at timestamptz default now();

comment on column core.memberships.consented_at is
    'SMTA: when the member consented to being seen by this organization (own act, invitation, or an existing colleague added them); null = added by id alone, profile hidden';

-- core.is_consenting_colleague(p_user_id): does p_user_id hold a live, consented membership of
-- a live organization the caller belongs to? (Then their profile is already visible to the
-- caller.) Callable by the runtime roles, like core.shares_organization; raises nothing.
create or replace function core.is_consenting_colleague(p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1
        from core.memberships theirs
        where theirs.user_id = p_user_id
          and not theirs.is_deleted
          and theirs.consented_at is not null
          and theirs.organization_id = any ((select core.current_user_org_ids())::uuid[])
    )
$$;

revoke all on function core.is_consenting_colleague(uuid) from public, anon;
grant execute on function core.is_consenting_colleague(uuid) to app_user, app_admin;

-- core.stamp_membership_consent(): BEFORE INSERT on core.memberships, for RLS callers only:
-- consented_at is decided here, never taken from the statement (the column is not in the
-- INSERT privilege anyway). Privileged writers set it themselves (default: now). Runs as the
-- caller; raises nothing.
create or replace function core.stamp_membership_consent()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if not core.current_role_is_privileged() then
        new.consented_at := case when core.is_consenting_colleague(new.user_id) then pg_catalog.now() end;
    end if;
    return new;
end
$$;

revoke all on function core.stamp_membership_consent() from public, anon;

create trigger trg_memberships_consent before insert on core.memberships
    for each row execute function core.stamp_membership_consent();

-- Profiles: a colleague's profile is visible through a membership they consented to.
drop policy "users see themselves and their colleagues" on core.users_meta;

-- Users see their own profile and those of people sharing a live organization with them who
-- consented to being seen there (see core.memberships.consented_at).
create policy "users see themselves and their consenting colleagues" on core.users_meta
    for select to app_user
    using (
        not is_deleted
        and (
            id = (select core.get_current_user_id())
            or exists (
                select 1 from core.memberships m
                where m.user_id = users_meta.id
                  and not m.is_deleted
                  and m.consented_at is not null
                  and m.organization_id = any ((select core.current_user_org_ids())::uuid[])
            )
        )
    );

-- public.list_organization_members (0012), with consent: the live members of an organization;
-- email and names only for members who consented to being seen there (and for the caller).
-- No rows unless the caller is a live member. Raises 42501 when unauthenticated.
create or replace function public.list_organization_members(p_id uuid)
returns table (
  user_id uuid,
  email text,
  first_name text,
  last_name text,
  role text,
  role_label text,
  is_super_admin boolean
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
         r.name, r.description, m.is_super_admin
  from core.memberships as m
  join core.roles as r on r.id = m.role_id
  left join core.users_meta as um on um.id = m.user_id and not um.is_deleted
  where m.organization_id = p_id
    and not m.is_deleted
  -- by the email shown, so that the order reveals nothing of a hidden one
  order by 7 desc, 2, 1;
end;
$$;

-- public.list_unit_members (0016), with consent: the live memberships recorded on a live unit,
-- with each member's unit role; email and names only for members who consented to being seen
-- by the organization (and for the caller). Empty when the caller cannot see the unit. Raises
-- 42501 when unauthenticated.
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
  join core.roles as r on r.id = um.role_id
  left join core.users_meta as meta on meta.id = um.user_id
  where u.id = p_unit_id
    and not u.is_deleted
    and u.organization_id = any (core.current_user_org_ids())
    and not um.is_deleted
  -- by the email shown, so that the order reveals nothing of a hidden one
  order by 2, 1;
end;
$$;

-- public.add_member_to_organization (0012), with consent: adds an existing user (one with a
-- profile row) to an organization with a role; a previously removed member is revived with
-- the new role. The membership is consented when the user already is a consenting colleague
-- of the caller, else the new member stays anonymous (see above). The organization's
-- super_admin only. Raises 42501 (unauthenticated, not the super_admin, super_admin role),
-- P0002 (not a member / no such live organization; no such user; role not usable here), 23505
-- (already a live member), 22023 (missing argument).
create or replace function public.add_member_to_organization(p_org_id uuid, p_user_id uuid, p_role_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_tombstone_id uuid;
  v_consented_at timestamptz;
begin
  if p_org_id is null or p_user_id is null then
    raise exception 'Organization id and user id are required'
      using errcode = '22023';
  end if;

  if not core.is_org_member(p_org_id) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  if not core.is_super_admin(p_org_id) then
    raise exception 'Only a super_admin can add members to the organization'
      using errcode = '42501';
  end if;

  perform core.assert_assignable_role(p_org_id, p_role_id);

  if not exists (
    select 1 from core.users_meta as um where um.id = p_user_id and not um.is_deleted
  ) then
    raise exception 'User not found'
      using errcode = 'P0002';
  end if;

  if exists (
    select 1
    from core.memberships as m
    where m.organization_id = p_org_id
      and m.user_id = p_user_id
      and not m.is_deleted
  ) then
    raise exception 'User is already a member of this organization'
      using errcode = '23505';
  end if;

  v_consented_at := case when core.is_consenting_colleague(p_user_id) then now() end;

  -- Revive the latest removed membership if there is one: it keeps the (user, organization)
  -- pair on a single row whatever uniqueness the table enforces, and keeps its history.
  select m.id
  into v_tombstone_id
  from core.memberships as m
  where m.organization_id = p_org_id
    and m.user_id = p_user_id
    and m.is_deleted
  order by m.deleted_at desc nulls last
  limit 1
  for update;

  begin
    if v_tombstone_id is not null then
      update core.memberships as m
      set is_deleted = false,
          deleted_at = null,
          deleted_by = null,
          role_id = p_role_id,
          is_super_admin = false,
          consented_at = v_consented_at,
          updated_by = v_user_id
      where m.id = v_tombstone_id;
    else
      insert into core.memberships (user_id, organization_id, role_id, is_super_admin, consented_at, created_by, updated_by)
      values (p_user_id, p_org_id, p_role_id, false, v_consented_at, v_user_id, v_user_id);
    end if;
  exception
    when unique_violation then
      -- A concurrent call added the same member first.
      raise exception 'User is already a member of this organization'
        using errcode = '23505';
  end;
end;
$$;

-- core.join_organization (0017), with consent: the invitee joins by their own act, so the
-- membership is consented. Makes a user a plain (not super_admin) member of an organization
-- with a role: inserts the membership, or revives the user's soft-deleted one. A live
-- membership is left untouched and null is returned; the membership id otherwise. Internal.
-- Raises nothing of its own.
create or replace function core.join_organization(
  p_user_id uuid,
  p_org_id uuid,
  p_role_id uuid,
  p_invited_by uuid
)
returns uuid
language sql
set search_path = ''
as $$
  insert into core.memberships as m (user_id, organization_id, role_id, is_super_admin, consented_at, created_by, updated_by)
  values (p_user_id, p_org_id, p_role_id, false, now(), p_invited_by, p_user_id)
  on conflict (user_id, organization_id) do update
    set role_id = excluded.role_id,
        is_super_admin = false,
        is_deleted = false,
        deleted_at = null,
        deleted_by = null,
        consented_at = excluded.consented_at,
        updated_by = p_user_id
    where m.is_deleted
  returning m.id;
$$;

-- =============================================================================================
-- Invitations end when membership changes (item 4) and are never revived (item 5)
-- =============================================================================================
-- core.end_invitations_on_membership_change(): AFTER INSERT OR UPDATE OF is_deleted on
-- core.memberships, for everyone. A membership that becomes live (added directly, by the API,
-- by an accepted invitation, or revived) or ends (removed, left) cancels every pending
-- invitation of that organization addressed to the member's email: whoever was added or
-- removed, no old token can bring them back later with the role it once offered. (An
-- invitation being accepted is marked accepted before its membership is written, so it is
-- not among them.) SECURITY DEFINER: the caller may not write invitations. Raises nothing.
create or replace function core.end_invitations_on_membership_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email text;
begin
    if tg_op = 'INSERT' and new.is_deleted then
        return null;
    end if;
    if tg_op = 'UPDATE' and new.is_deleted = old.is_deleted then
        return null;
    end if;

    select pg_catalog.lower(pg_catalog.btrim(um.email)) into v_email
    from core.users_meta as um
    where um.id = new.user_id;
    if v_email is null or v_email = '' then
        return null;
    end if;

    update core.invitations as i
    set status = 'cancelled'
    where i.organization_id = new.organization_id
      and pg_catalog.lower(i.email) = v_email
      and i.status = 'pending'
      and not i.is_deleted;
    return null;
end
$$;

revoke all on function core.end_invitations_on_membership_change() from public, anon;

create trigger trg_memberships_end_invitations after insert or update of is_deleted on core.memberships
    for each row execute function core.end_invitations_on_membership_change();

-- core.guard_direct_invitation_write(): BEFORE UPDATE on core.invitations, for RLS callers
-- only. The policy of 0005 lets the super_admin and managers update their organization's
-- invitations, and the column privileges limit them to status, expires_at and metadata; this
-- lets such an update only END a pending invitation early, which is what cancel_invitation
-- does for any member: status pending -> cancelled or expired, expires_at moved earlier,
-- metadata edited. It can never make an invitation pending again, extend it, or touch one that
-- is no longer pending (resend_invitation is the way to renew one). SECURITY INVOKER: it must
-- see the caller's role. Raises 42501.
create or replace function core.guard_direct_invitation_write()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if core.current_role_is_privileged() then
        return new;
    end if;

    if new.status is distinct from old.status or new.expires_at is distinct from old.expires_at then
        if old.status <> 'pending' then
            raise exception 'Only a pending invitation can be ended; this one is %', old.status
                using errcode = '42501';
        end if;
        if new.status not in ('pending', 'cancelled', 'expired') then
            raise exception 'A direct update can only cancel or expire an invitation'
                using errcode = '42501';
        end if;
        if new.expires_at > old.expires_at then
            raise exception 'An invitation cannot be extended: use public.resend_invitation()'
                using errcode = '42501';
        end if;
    end if;
    return new;
end
$$;

revoke all on function core.guard_direct_invitation_write() from public, anon;

create trigger trg_invitations_direct_write_guard before update on core.invitations
    for each row execute function core.guard_direct_invitation_write();

-- public.create_invitation (0017), with the role ceiling and the unit rule of item 13: invites
-- an email address into an organization (and optionally one of its units) with a role, valid
-- for 7 days, and returns the invitation's id, the raw token (the only time it is ever
-- available), the normalized email and the expiry.
-- Any live member of the organization, at a role within their reach (core.may_grant_role);
-- for a unit invitation, a member of that unit or the organization's super_admin or a manager
-- (who reach every unit). Raises 42501 when unauthenticated, not a member, not allowed into the
-- unit, for the super_admin role or a role above the caller's own; 22023 for a missing
-- organization id, an invalid email, an unusable role, a unit of another organization or
-- non-object metadata; 23505 when a live invitation for that email and organization is pending
-- or the email is already a member's.
create or replace function public.create_invitation(
  p_email text,
  p_organization_id uuid,
  p_role_id uuid,
  p_unit_id uuid default null,
  p_metadata jsonb default '{}'
)
returns table (
  id uuid,
  token text,
  email text,
  expires_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_email text := pg_catalog.lower(pg_catalog.btrim(p_email));
  v_role_name text;
  v_token text;
  v_invitation_id uuid;
  v_expires_at timestamptz := now() + interval '7 days';
begin
  if p_organization_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  if not (p_organization_id = any (core.current_user_org_ids())) then
    raise exception 'You must be a member of this organization to invite users'
      using errcode = '42501';
  end if;

  if p_unit_id is not null then
    if not exists (
      select 1 from core.units as u
      where u.id = p_unit_id
        and u.organization_id = p_organization_id
        and not u.is_deleted
    ) then
      raise exception 'Unit does not belong to this organization'
        using errcode = '22023';
    end if;

    if not (p_unit_id = any (core.current_user_unit_ids())
            or p_organization_id = any (core.current_user_managed_org_ids())) then
      raise exception 'You must be a member of this unit to invite users to it'
        using errcode = '42501';
    end if;
  end if;

  v_role_name := core.role_name_for_org(p_organization_id, p_role_id);
  if v_role_name is null then
    raise exception 'Invalid role specified'
      using errcode = '22023';
  end if;
  if v_role_name = 'super_admin' then
    raise exception 'Cannot invite users as super_admin. Use public.transfer_super_admin() to transfer ownership.'
      using errcode = '42501';
  end if;
  if not core.may_grant_role(p_organization_id, p_role_id) then
    raise exception 'You cannot invite at a role above your own'
      using errcode = '42501';
  end if;

  if v_email is null or v_email !~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$' then
    raise exception 'Invalid email address'
      using errcode = '22023';
  end if;

  if p_metadata is not null and pg_catalog.jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'Invitation metadata must be a JSON object'
      using errcode = '22023';
  end if;

  -- One invitation per (organization, email) at a time: serialize creators of the same pair
  -- for the rest of this transaction so that the check below cannot be raced.
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('smta.invitation:' || p_organization_id::text || ':' || v_email, 0));

  -- A pending invitation past its expiry no longer blocks a new one; record it as expired.
  update core.invitations as i
  set status = 'expired',
      updated_by = v_user_id
  where i.organization_id = p_organization_id
    and pg_catalog.lower(i.email) = v_email
    and i.status = 'pending'
    and i.expires_at <= now()
    and not i.is_deleted;

  if exists (
    select 1 from core.invitations as i
    where i.organization_id = p_organization_id
      and pg_catalog.lower(i.email) = v_email
      and i.status = 'pending'
      and not i.is_deleted
  ) then
    raise exception 'A pending invitation to this email already exists for this organization'
      using errcode = '23505';
  end if;

  if exists (
    select 1
    from core.memberships as m
    join core.users_meta as meta on meta.id = m.user_id
    where m.organization_id = p_organization_id
      and not m.is_deleted
      and pg_catalog.lower(meta.email) = v_email
  ) then
    raise exception 'This user is already a member of the organization'
      using errcode = '23505';
  end if;

  v_token := core.new_invitation_token();

  insert into core.invitations as i (
    email, organization_id, unit_id, role_id, invited_by, token, expires_at, status,
    metadata, created_by, updated_by
  )
  values (
    v_email, p_organization_id, p_unit_id, p_role_id, v_user_id,
    core.hash_invitation_token(v_token), v_expires_at, 'pending',
    coalesce(p_metadata, '{}'::jsonb), v_user_id, v_user_id
  )
  returning i.id into v_invitation_id;

  return query select v_invitation_id, v_token, v_email, v_expires_at;
end;
$$;

-- public.resend_invitation (0017), with the role ceiling: gives a pending or expired
-- invitation a new token and a new 7 days (the old token stops working) and returns the new
-- raw token, once. Any live member of the invitation's organization whose reach covers the
-- invitation's role (core.may_grant_role). Raises 42501 when unauthenticated or the role is
-- above the caller's own; 22023 for a missing id; P0002 'Invitation not found' (also for
-- another tenant's invitation); P0001 when it is accepted or cancelled, or its role or unit is
-- gone; 23505 when another pending invitation for that email exists or the email is already a
-- member's.
create or replace function public.resend_invitation(p_invitation_id uuid)
returns table (
  id uuid,
  token text,
  email text,
  expires_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_invitation core.invitations%rowtype;
  v_role_name text;
  v_token text;
  v_expires_at timestamptz := now() + interval '7 days';
begin
  if p_invitation_id is null then
    raise exception 'Invitation id is required'
      using errcode = '22023';
  end if;

  select i.* into v_invitation
  from core.invitations as i
  where i.id = p_invitation_id
    and not i.is_deleted
    and i.organization_id = any (core.current_user_org_ids());

  if not found then
    raise exception 'Invitation not found'
      using errcode = 'P0002';
  end if;

  -- Same lock as create_invitation for this (organization, email), then the row itself.
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended(
      'smta.invitation:' || v_invitation.organization_id::text || ':' || pg_catalog.lower(v_invitation.email), 0));

  select i.* into v_invitation
  from core.invitations as i
  where i.id = p_invitation_id
    and not i.is_deleted
  for update;

  if not found then
    raise exception 'Invitation not found'
      using errcode = 'P0002';
  end if;

  if v_invitation.status not in ('pending', 'expired') then
    raise exception 'Can only resend pending or expired invitations'
      using errcode = 'P0001';
  end if;

  v_role_name := core.role_name_for_org(v_invitation.organization_id, v_invitation.role_id);
  if v_role_name is null or v_role_name = 'super_admin' then
    raise exception 'The role of this invitation is no longer available'
      using errcode = 'P0001';
  end if;

  -- Resending hands the caller a working token: the role ceiling applies as for creating.
  if not core.may_grant_role(v_invitation.organization_id, v_invitation.role_id) then
    raise exception 'You cannot invite at a role above your own'
      using errcode = '42501';
  end if;

  if v_invitation.unit_id is not null and not exists (
    select 1 from core.units as u
    where u.id = v_invitation.unit_id
      and not u.is_deleted
  ) then
    raise exception 'The unit of this invitation no longer exists'
      using errcode = 'P0001';
  end if;

  if exists (
    select 1 from core.invitations as other
    where other.organization_id = v_invitation.organization_id
      and pg_catalog.lower(other.email) = pg_catalog.lower(v_invitation.email)
      and other.id <> v_invitation.id
      and other.status = 'pending'
      and other.expires_at > now()
      and not other.is_deleted
  ) then
    raise exception 'A pending invitation to this email already exists for this organization'
      using errcode = '23505';
  end if;

  if exists (
    select 1
    from core.memberships as m
    join core.users_meta as meta on meta.id = m.user_id
    where m.organization_id = v_invitation.organization_id
      and not m.is_deleted
      and pg_catalog.lower(meta.email) = pg_catalog.lower(v_invitation.email)
  ) then
    raise exception 'This user is already a member of the organization'
      using errcode = '23505';
  end if;

  v_token := core.new_invitation_token();

  update core.invitations as i
  set token = core.hash_invitation_token(v_token),
      expires_at = v_expires_at,
      status = 'pending',
      updated_by = v_user_id
  where i.id = v_invitation.id;

  return query select v_invitation.id, v_token, v_invitation.email, v_expires_at;
end;
$$;

-- public.accept_invitation (0017), checks reordered: the invitee accepts with the raw token
-- and becomes a member of the organization (and of the unit, for a unit invitation) with the
-- invited role. The invitation row is locked first, so of two sessions accepting one
-- invitation exactly one succeeds. Only the signed-in user whose email equals the invited
-- email (ignoring case) learns anything beyond "different email": then, in this order, that
-- it was accepted already, that they are already a member, that it is no longer pending or has
-- expired, or that its organization, role or unit is gone. Raises 42501 when unauthenticated or the email
-- differs; P0002 for an unknown token or a deleted organization; 23505 when the caller is
-- already a member; P0001 when the invitation is no longer pending, has expired, or its role
-- or unit is gone.
create or replace function public.accept_invitation(p_token text)
returns table (
  organization_id uuid,
  unit_id uuid,
  role_id uuid,
  organization_name text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_caller_email text;
  v_invitation core.invitations%rowtype;
  v_org_name text;
  v_role_name text;
  v_membership_id uuid;
begin
  if p_token is null or p_token = '' then
    raise exception 'Invalid invitation token'
      using errcode = 'P0002';
  end if;

  select i.* into v_invitation
  from core.invitations as i
  where i.token = core.hash_invitation_token(p_token)
    and not i.is_deleted
  for update;

  if not found then
    raise exception 'Invalid invitation token'
      using errcode = 'P0002';
  end if;

  v_caller_email := core.get_current_user_email();
  if v_caller_email is null
     or pg_catalog.lower(pg_catalog.btrim(v_caller_email)) <> pg_catalog.lower(v_invitation.email) then
    raise exception 'This invitation was sent to a different email address'
      using errcode = '42501';
  end if;

  if v_invitation.status = 'accepted' then
    raise exception 'This invitation has already been accepted'
      using errcode = 'P0001';
  end if;

  -- An invitation of someone who became a member otherwise was cancelled by that change
  -- (core.end_invitations_on_membership_change): say why.
  if exists (
    select 1 from core.memberships as m
    where m.user_id = v_user_id
      and m.organization_id = v_invitation.organization_id
      and not m.is_deleted
  ) then
    raise exception 'You are already a member of this organization'
      using errcode = '23505';
  end if;

  if v_invitation.status <> 'pending' then
    raise exception 'This invitation has already been %', v_invitation.status
      using errcode = 'P0001';
  end if;

  if v_invitation.expires_at <= now() then
    raise exception 'This invitation has expired'
      using errcode = 'P0001';
  end if;

  select o.name into v_org_name
  from core.organizations as o
  where o.id = v_invitation.organization_id
    and not o.is_deleted;

  if not found then
    raise exception 'The organization of this invitation no longer exists'
      using errcode = 'P0002';
  end if;

  v_role_name := core.role_name_for_org(v_invitation.organization_id, v_invitation.role_id);
  if v_role_name is null or v_role_name = 'super_admin' then
    raise exception 'The role of this invitation is no longer available'
      using errcode = 'P0001';
  end if;

  if v_invitation.unit_id is not null and not exists (
    select 1 from core.units as u
    where u.id = v_invitation.unit_id
      and u.organization_id = v_invitation.organization_id
      and not u.is_deleted
  ) then
    raise exception 'The unit of this invitation no longer exists'
      using errcode = 'P0001';
  end if;

  -- Marked accepted before the membership is written, so that the trigger ending this email's
  -- pending invitations (above) leaves this one alone; a failure below undoes both.
  update core.invitations as i
  set status = 'accepted',
      accepted_at = now(),
      accepted_by = v_user_id,
      updated_by = v_user_id
  where i.id = v_invitation.id;

  v_membership_id := core.join_organization(
    v_user_id, v_invitation.organization_id, v_invitation.role_id, v_invitation.invited_by);

  if v_membership_id is null then
    raise exception 'You are already a member of this organization'
      using errcode = '23505';
  end if;

  if v_invitation.unit_id is not null then
    perform core.put_unit_membership(v_user_id, v_invitation.unit_id, v_invitation.role_id, v_user_id);
  end if;

  return query
  select v_invitation.organization_id, v_invitation.unit_id, v_invitation.role_id, v_org_name;
end;
$$;

-- =============================================================================================
-- The seat limit after row-level security (item 11)
-- =============================================================================================
-- As a BEFORE trigger the seat check ran before the policy's WITH CHECK, so an outsider's
-- direct insert into a full organization was told "seat limit of N members". PostgreSQL checks
-- WITH CHECK after BEFORE triggers and before AFTER triggers: checked AFTER the row is written,
-- a caller who may not write there is refused (42501) before the seat state is consulted.
drop trigger trg_memberships_seat_limit on core.memberships;

-- core.enforce_membership_seat_limit(): AFTER INSERT OR UPDATE OF is_deleted on
-- core.memberships: a membership that became live (a new live row, or a removed one revived)
-- must fit the seat limit, counting itself. Writers of one organization's memberships are
-- serialized by the advisory lock of core.check_seat_limit while they count, and each count
-- reads a fresh snapshot, so two inserts racing for the last seat cannot both stay. (An insert
-- that meets the user's existing row through ON CONFLICT fires the update instead.)
-- Internal (trigger). Raises P0001 when the organization is over its limit.
create or replace function core.enforce_membership_seat_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_limit integer;
begin
  if new.is_deleted or (tg_op = 'UPDATE' and not old.is_deleted) then
    return null;
  end if;

  v_limit := platform.organization_member_limit(new.organization_id);
  if v_limit is null then
    return null;
  end if;

  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('core.memberships:seats:' || new.organization_id::text, 0));

  if (select pg_catalog.count(*) from core.memberships as m
      where m.organization_id = new.organization_id and not m.is_deleted) > v_limit then
    raise exception 'The organization has reached its seat limit of % members', v_limit
      using errcode = 'P0001';
  end if;
  return null;
end;
$$;

create trigger trg_memberships_seat_limit after insert or update of is_deleted on core.memberships
    for each row execute function core.enforce_membership_seat_limit();

-- =============================================================================================
-- Unknown and foreign ids answer alike (items 6, 8, 9)
-- =============================================================================================
-- core.get_org_id_for_unit(p_unit_id) (0003): the organization of a live unit the caller can
-- see, null for a deleted, unknown or foreign unit, so it tells an outsider nothing. SECURITY
-- INVOKER now: it reads core.units under the caller's row-level security (members see their
-- organizations' live units; the service role and the API functions, running as the owner,
-- see every unit). Same signature and meaning for application policies such as
-- core.is_org_member(core.get_org_id_for_unit(unit_id)). Callable by the runtime roles; raises
-- nothing.
create or replace function core.get_org_id_for_unit(p_unit_id uuid)
returns uuid
language sql
stable
security invoker
set search_path = ''
as $$
    select u.organization_id from core.units u where u.id = p_unit_id and not u.is_deleted
$$;

-- core.log_audit writes arbitrary entries: for the operator's backend (app_admin) only. Members
-- read the audit trail; they never write it, and it is no longer an oracle for foreign ids.
revoke execute on function core.log_audit(text, text, uuid, text, jsonb) from app_user;

-- =============================================================================================
-- The operator names application tables (item 13)
-- =============================================================================================
-- core.enable_tenancy('app.projects') resolves its regclass argument as the caller, which
-- needs USAGE on the schema. SMTA still grants nothing on the tables of schema app.
grant usage on schema app to app_admin;

-- core.check_role_scope() (0004), answering alike: BEFORE INSERT OR UPDATE OF role_id on
-- memberships, unit_memberships and invitations. The role must exist, not be deleted, and be
-- global or the row's organization's own. Another organization's role is "not found", exactly
-- as an unknown id: the refusal never names it, nor tells that it exists (this trigger runs
-- before row-level security, so outsiders meet it too). Applies to everyone; raises P0002.
create or replace function core.check_role_scope()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_row jsonb := pg_catalog.to_jsonb(new);
    v_org_id uuid;
begin
    if tg_table_name = 'unit_memberships' then
        select u.organization_id into v_org_id from core.units u where u.id = new.unit_id;
    else
        v_org_id := (v_row ->> 'organization_id')::uuid;
    end if;

    if not exists (
        select 1 from core.roles r
        where r.id = new.role_id
          and not r.is_deleted
          and (r.organization_id is null or r.organization_id = v_org_id)
    ) then
        raise exception 'Role not found' using errcode = 'P0002';
    end if;
    return new;
end
$$;

-- =============================================================================================
-- Tenant keys never move on the platform's tables either
-- =============================================================================================
-- 0004 keeps core rows in their tenant; an operator's UPDATE (service_role) could still hand an
-- organization's secret, subscription, customer record, flags or override to another
-- organization. Nothing of SMTA moves them (billing upserts by provider ids, never by
-- reassigning the organization): create a new row instead.
create trigger trg_tenant_secrets_tenant_keys before update on platform.tenant_secrets
    for each row execute function core.forbid_tenant_key_change('scope', 'organization_id', 'user_id');
create trigger trg_billing_subscriptions_tenant_keys before update on platform.billing_subscriptions
    for each row execute function core.forbid_tenant_key_change('organization_id');
create trigger trg_billing_customers_tenant_keys before update on platform.billing_customers
    for each row execute function core.forbid_tenant_key_change('organization_id');
create trigger trg_platform_feature_flags_tenant_keys before update on platform.platform_feature_flags
    for each row execute function core.forbid_tenant_key_change('organization_id');
create trigger trg_platform_subscription_overrides_tenant_keys before update on platform.platform_subscription_overrides
    for each row execute function core.forbid_tenant_key_change('organization_id');
