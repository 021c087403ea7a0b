-- 0016_api_units: the public.* API for units and unit memberships.
--
-- Every public function is SECURITY DEFINER, owned by the migrating role, with
-- `search_path = ''`: it reads and writes core tables directly and makes its own authorization decision, so the
-- caller gets exactly what the function allows (and soft deletes work: a row that becomes
-- invisible under the caller's SELECT policy can still be marked deleted, defect 11). The
-- caller's identity stays core.get_current_user_id(), and the audit triggers of 0004 record it
-- as the actor of every change; these functions write no audit rows themselves.
--
-- Who may do what:
--   * read units and unit members ............ any member of the unit's organization
--   * create and rename units ................ any member of the organization
--   * delete and restore units ............... the organization's super_admin
--   * assign_user_to_unit / remove_user_from_unit
--                                              the organization's super_admin and managers
--   * add_member_to_unit / update_unit_member_role / remove_member_from_unit
--                                              the organization's super_admin
-- Creating and renaming units follow SMTA 0.8: the database requires membership of the
-- organization, and which members may do it beyond that is the application's decision (its
-- CASL rules). A direct SQL client stays under the narrower policies of 0005 (super_admin and
-- managers write core.units); the API is the path for everyone else. Unit membership writes
-- give out roles, so they stay with the super_admin and managers as in 0005 (SMTA 0.8 opened
-- assign_user_to_unit and remove_user_from_unit to any member), and API and direct SQL agree.
-- No function grants the super_admin role, and only the super_admin may change their own unit
-- membership (anyone may remove themselves from a unit).
--
-- Reads answer with an empty result for a unit the caller cannot see; writes answer
-- 'Unit not found' (P0002) for a unit that does not exist or lies in another tenant, so the
-- two cases cannot be told apart.
--
-- Nested units: create_unit takes an optional parent in the same organization; a unit with
-- live sub-units cannot be deleted, and a unit whose parent is deleted cannot be restored, so
-- a live unit never hangs under a deleted one. Unit membership is inherited downwards as 0003
-- defines it: a member of a unit belongs to every live unit below it with the same role,
-- unless they hold a membership of their own further down, which wins for that subtree. The
-- caller's own views (list_my_units, get_user_units, get_user_unit_permissions) follow that
-- rule; list_unit_members and the write functions deal with the memberships recorded on the
-- unit itself (the rows that can be added, changed and removed).
--
-- Depends on core.require_user_id() (0010) and core.assert_assignable_role() (0012).

-- core.unit_org_for_write: the organization of a live unit when the caller is a live member of
-- it, else raises. Internal helper of the write functions below: not executable by app roles.
-- Raises 22023 for a null unit id, P0002 'Unit not found' for a missing, deleted or
-- other-tenant unit (one message, so another tenant's unit ids cannot be probed).
create or replace function core.unit_org_for_write(p_unit_id uuid)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_org_id uuid;
begin
  if p_unit_id is null then
    raise exception 'Unit id is required'
      using errcode = '22023';
  end if;

  select u.organization_id into v_org_id
  from core.units as u
  where u.id = p_unit_id
    and not u.is_deleted
    and u.organization_id = any (core.current_user_org_ids());

  if v_org_id is null then
    raise exception 'Unit not found'
      using errcode = 'P0002';
  end if;
  return v_org_id;
end;
$$;

revoke all on function core.unit_org_for_write(uuid) from public, anon;

-- core.put_unit_membership: gives a user a live unit membership with a role: inserts one, or
-- revives the user's soft-deleted row for that unit (the (user_id, unit_id) key keeps removed
-- members' rows, so re-adding must reuse them: defect 10), or changes the role of a live one.
-- Internal helper of 0016/0017 (callers have already authorized the change): not executable by
-- app roles. Raises nothing of its own.
create or replace function core.put_unit_membership(
  p_user_id uuid,
  p_unit_id uuid,
  p_role_id uuid,
  p_actor_id uuid
)
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
        updated_by = p_actor_id;
$$;

revoke all on function core.put_unit_membership(uuid, uuid, uuid, uuid) from public, anon;

-- core.current_user_unit_roles: every live unit the caller belongs to, with the role that
-- applies there: their own live membership of the unit, else the one of the nearest live
-- ancestor they belong to (the inheritance rule of 0003, core.unit_membership_role_for, in
-- one pass for all units). A membership counts only with a live membership of the
-- organization, in a live organization. Internal helper of the caller-scoped reads below:
-- not executable by app roles. Raises nothing.
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
      and not u.is_deleted
      and not o.is_deleted
      and not m.is_deleted
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

revoke all on function core.current_user_unit_roles() from public, anon;

-- public.list_my_units: the units the caller belongs to (directly or by inheritance from a
-- unit above), in every organization they belong to, with the role that applies there.
-- Any authenticated user, for themselves. Raises 42501 when unauthenticated.
create or replace function public.list_my_units()
returns table (
  id uuid,
  organization_id uuid,
  name text,
  role text,
  role_label text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform core.require_user_id();

  return query
  select u.id, u.organization_id, u.name, r.name, r.description
  from core.current_user_unit_roles() as mine
  join core.units as u on u.id = mine.unit_id
  join core.roles as r on r.id = mine.role_id
  order by u.name, u.id;
end;
$$;

revoke all on function public.list_my_units() from public, anon;
grant execute on function public.list_my_units() to app_user;

-- public.get_user_units: the units of one organization the caller belongs to (directly or by
-- inheritance), with the role that applies there; empty when the caller is not a member of
-- that organization. Any authenticated user, for themselves. Raises 42501 when
-- unauthenticated.
create or replace function public.get_user_units(p_org_id uuid)
returns table (
  id uuid,
  organization_id uuid,
  name text,
  role text,
  role_label text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform core.require_user_id();

  return query
  select u.id, u.organization_id, u.name, r.name, r.description
  from core.current_user_unit_roles() as mine
  join core.units as u on u.id = mine.unit_id
  join core.roles as r on r.id = mine.role_id
  where u.organization_id = p_org_id
  order by u.name, u.id;
end;
$$;

revoke all on function public.get_user_units(uuid) from public, anon;
grant execute on function public.get_user_units(uuid) to app_user;

-- public.get_unit: one live unit (empty when it is deleted, missing or in another tenant).
-- Any member of the unit's organization. Raises 42501 when unauthenticated.
create or replace function public.get_unit(p_id uuid)
returns table (
  id uuid,
  organization_id uuid,
  name text,
  description text,
  created_at timestamptz,
  updated_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform core.require_user_id();

  return query
  select u.id, u.organization_id, u.name, u.description, u.created_at, u.updated_at
  from core.units as u
  where u.id = p_id
    and not u.is_deleted
    and u.organization_id = any (core.current_user_org_ids());
end;
$$;

revoke all on function public.get_unit(uuid) from public, anon;
grant execute on function public.get_unit(uuid) to app_user;

-- public.list_units: every live unit of an organization, not only the caller's own (empty when
-- the caller is not a member). Any member of the organization. Raises 42501 when
-- unauthenticated.
create or replace function public.list_units(p_org_id uuid)
returns table (
  id uuid,
  organization_id uuid,
  name text,
  description text,
  created_at timestamptz,
  updated_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform core.require_user_id();

  return query
  select u.id, u.organization_id, u.name, u.description, u.created_at, u.updated_at
  from core.units as u
  where u.organization_id = p_org_id
    and p_org_id = any (core.current_user_org_ids())
    and not u.is_deleted
  order by u.name, u.id;
end;
$$;

revoke all on function public.list_units(uuid) from public, anon;
grant execute on function public.list_units(uuid) to app_user;

-- public.list_unit_members: the live memberships recorded on a live unit, with each member's
-- profile and unit role (empty when the caller cannot see the unit). Members of units above it
-- reach it too (0003) but are listed on their own unit. A unit membership counts only while
-- its user is still a member of the organization. Any member of the unit's organization.
-- Raises 42501 when unauthenticated.
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
begin
  perform core.require_user_id();

  return query
  select um.user_id, meta.email, meta.first_name, meta.last_name, r.name, r.description
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
  order by meta.email, um.user_id;
end;
$$;

revoke all on function public.list_unit_members(uuid) from public, anon;
grant execute on function public.list_unit_members(uuid) to app_user;

-- public.get_user_unit_permissions: the role that applies to the caller in a unit (their own
-- membership, else the nearest unit above they belong to) and its CASL rules, for the
-- application to build a unit-scoped ability; empty when none applies. Any authenticated
-- user, for themselves. Raises 42501 when unauthenticated.
create or replace function public.get_user_unit_permissions(p_unit_id uuid)
returns table (
  role_name text,
  casl_rules jsonb
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform core.require_user_id();

  return query
  select r.name, r.casl_rules
  from core.current_user_unit_roles() as mine
  join core.roles as r on r.id = mine.role_id
  where mine.unit_id = p_unit_id;
end;
$$;

revoke all on function public.get_user_unit_permissions(uuid) from public, anon;
grant execute on function public.get_user_unit_permissions(uuid) to app_user;

-- public.create_unit: creates a unit in an organization, optionally under a parent unit of the
-- same organization, and returns it (its unit_meta row comes from the 0004 trigger).
-- Any live member of the organization (SMTA 0.8; the application's CASL rules decide which
-- members may). Raises 42501 when unauthenticated or not a member; 22023 for a missing
-- organization id or blank name; P0002 when the parent unit is missing, deleted or in another
-- organization.
create or replace function public.create_unit(
  p_org_id uuid,
  p_name text,
  p_description text default null,
  p_parent_unit_id uuid default null
)
returns table (
  id uuid,
  organization_id uuid,
  name text,
  description text,
  created_by uuid,
  updated_by uuid
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_unit_id uuid;
begin
  if p_org_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  if not (p_org_id = any (core.current_user_org_ids())) then
    raise exception 'You must be a member of this organization to create units'
      using errcode = '42501';
  end if;

  if p_name is null or btrim(p_name) = '' then
    raise exception 'Unit name is required'
      using errcode = '22023';
  end if;

  -- The share lock makes a concurrent delete_unit of the parent wait for this insert (and then
  -- see the new sub-unit), or makes this check wait for that delete (and then fail).
  if p_parent_unit_id is not null then
    perform 1
    from core.units as parent
    where parent.id = p_parent_unit_id
      and parent.organization_id = p_org_id
      and not parent.is_deleted
    for share;

    if not found then
      raise exception 'Parent unit not found in this organization'
        using errcode = 'P0002';
    end if;
  end if;

  insert into core.units as u (organization_id, parent_unit_id, name, description, created_by, updated_by)
  values (p_org_id, p_parent_unit_id, btrim(p_name), p_description, v_user_id, v_user_id)
  returning u.id into v_unit_id;

  return query
  select u.id, u.organization_id, u.name, u.description, u.created_by, u.updated_by
  from core.units as u
  where u.id = v_unit_id;
end;
$$;

revoke all on function public.create_unit(uuid, text, text, uuid) from public, anon;
grant execute on function public.create_unit(uuid, text, text, uuid) to app_user;

-- public.update_unit: renames a live unit and sets its description (null clears it, as
-- update_organization does), and returns it. Any live member of the unit's organization
-- (SMTA 0.8; the application's CASL rules decide which members may).
-- Raises 42501 when unauthenticated, 22023 for a missing id or blank name, P0002 when the
-- unit is missing, deleted or in another tenant (core.unit_org_for_write).
create or replace function public.update_unit(
  p_id uuid,
  p_name text,
  p_description text default null
)
returns table (
  id uuid,
  name text,
  description text,
  updated_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
begin
  -- Membership of the unit's organization is the whole authorization (raises P0002 otherwise).
  perform core.unit_org_for_write(p_id);

  if p_name is null or btrim(p_name) = '' then
    raise exception 'Unit name is required'
      using errcode = '22023';
  end if;

  return query
  update core.units as u
  set name = btrim(p_name),
      description = p_description,
      updated_by = v_user_id
  where u.id = p_id
    and not u.is_deleted
  returning u.id, u.name, u.description, u.updated_at;
end;
$$;

revoke all on function public.update_unit(uuid, text, text) from public, anon;
grant execute on function public.update_unit(uuid, text, text) to app_user;

-- public.delete_unit: soft-deletes a unit together with its unit memberships and unit_meta row
-- (all stamped with the same deleted_at, which restore_unit relies on).
-- The organization's super_admin only. Raises 42501 when unauthenticated or not the
-- super_admin, P0002 'Unit not found' when the unit is missing, deleted or in another tenant,
-- P0001 when the unit still has live sub-units.
create or replace function public.delete_unit(p_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid := core.unit_org_for_write(p_id);
begin
  if not core.is_super_admin(v_org_id) then
    raise exception 'Only a super_admin can delete a unit'
      using errcode = '42501';
  end if;

  -- Lock the unit: create_unit takes a share lock on the parent it builds under, so a sub-unit
  -- created concurrently is either committed before the check below or refused after it.
  perform 1 from core.units as u where u.id = p_id for update;

  if exists (
    select 1 from core.units as child
    where child.parent_unit_id = p_id
      and not child.is_deleted
  ) then
    raise exception 'Cannot delete a unit that has sub-units. Delete its sub-units first.'
      using errcode = 'P0001';
  end if;

  update core.unit_memberships as um
  set is_deleted = true, deleted_at = now(), deleted_by = v_user_id, updated_by = v_user_id
  where um.unit_id = p_id
    and not um.is_deleted;

  update core.unit_meta as meta
  set is_deleted = true, deleted_at = now(), deleted_by = v_user_id, updated_by = v_user_id
  where meta.id = p_id
    and not meta.is_deleted;

  update core.units as u
  set is_deleted = true, deleted_at = now(), deleted_by = v_user_id, updated_by = v_user_id
  where u.id = p_id;
end;
$$;

revoke all on function public.delete_unit(uuid) from public, anon;
grant execute on function public.delete_unit(uuid) to app_user;

-- public.restore_unit: undoes delete_unit: revives the unit, its unit_meta row and the unit
-- memberships that delete_unit removed with it (same deleted_at), for users still in the
-- organization; memberships removed earlier stay removed.
-- The organization's super_admin only. Raises 42501 when unauthenticated or not the
-- super_admin, 22023 for a missing id, P0002 when no deleted unit with that id exists in one of
-- the caller's organizations, P0001 when the unit is not deleted or its parent is deleted.
create or replace function public.restore_unit(p_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_unit core.units%rowtype;
begin
  if p_id is null then
    raise exception 'Unit id is required'
      using errcode = '22023';
  end if;

  select u.* into v_unit
  from core.units as u
  where u.id = p_id
    and u.organization_id = any (core.current_user_org_ids())
  for update;

  if not found then
    raise exception 'Unit not found'
      using errcode = 'P0002';
  end if;

  if not core.is_super_admin(v_unit.organization_id) then
    raise exception 'Only a super_admin can restore a unit'
      using errcode = '42501';
  end if;

  if not v_unit.is_deleted then
    raise exception 'Unit is not deleted'
      using errcode = 'P0001';
  end if;

  if v_unit.parent_unit_id is not null and not exists (
    select 1 from core.units as parent
    where parent.id = v_unit.parent_unit_id
      and not parent.is_deleted
  ) then
    raise exception 'Restore the parent unit first'
      using errcode = 'P0001';
  end if;

  update core.units as u
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  where u.id = p_id;

  update core.unit_meta as meta
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  where meta.id = p_id
    and meta.is_deleted;

  update core.unit_memberships as um
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  where um.unit_id = p_id
    and um.is_deleted
    and um.deleted_at = v_unit.deleted_at
    and exists (
      select 1 from core.memberships as m
      where m.user_id = um.user_id
        and m.organization_id = v_unit.organization_id
        and not m.is_deleted
    );
end;
$$;

revoke all on function public.restore_unit(uuid) from public, anon;
grant execute on function public.restore_unit(uuid) to app_user;

-- core.check_unit_member_write: the shared checks of every function below that gives a user a
-- unit role: a caller other than the super_admin is not changing their own membership, the
-- target is a live member of the unit's organization, and the role may be given out there
-- (core.assert_assignable_role, 0012: global or the organization's own, never super_admin).
-- Internal helper: not executable by app roles. Raises 22023 for a missing user or role id,
-- 42501 for a self-change or the super_admin role, P0001 when the target is not a member of
-- the organization, P0002 for a role that does not exist or belongs to another organization.
create or replace function core.check_unit_member_write(
  p_org_id uuid,
  p_user_id uuid,
  p_role_id uuid
)
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
  ) then
    raise exception 'User is not a member of the organization'
      using errcode = 'P0001';
  end if;

  perform core.assert_assignable_role(p_org_id, p_role_id);
end;
$$;

revoke all on function core.check_unit_member_write(uuid, uuid, uuid) from public, anon;

-- public.assign_user_to_unit: puts a member of the unit's organization into the unit with a
-- role (re-adding a removed member revives their row; an existing member gets the new role).
-- The organization's super_admin and managers. Raises 42501 when unauthenticated, not allowed,
-- for the super_admin role or a self-change; 22023 for missing ids; P0002 'Unit not found' or
-- for a role not usable here; P0001 when the user is not a member of the organization.
create or replace function public.assign_user_to_unit(p_user_id uuid, p_unit_id uuid, p_role_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid := core.unit_org_for_write(p_unit_id);
begin
  if not (v_org_id = any (core.current_user_managed_org_ids())) then
    raise exception 'Only a super_admin or a manager can assign users to a unit'
      using errcode = '42501';
  end if;

  perform core.check_unit_member_write(v_org_id, p_user_id, p_role_id);
  perform core.put_unit_membership(p_user_id, p_unit_id, p_role_id, v_user_id);
end;
$$;

revoke all on function public.assign_user_to_unit(uuid, uuid, uuid) from public, anon;
grant execute on function public.assign_user_to_unit(uuid, uuid, uuid) to app_user;

-- public.remove_user_from_unit: soft-deletes a user's live membership of a unit.
-- The organization's super_admin and managers, and any member for themselves.
-- Raises 42501 when unauthenticated or not allowed, 22023 for missing ids,
-- P0002 'Unit not found' or 'Member not found'.
create or replace function public.remove_user_from_unit(p_user_id uuid, p_unit_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid := core.unit_org_for_write(p_unit_id);
begin
  if p_user_id is null then
    raise exception 'User id is required'
      using errcode = '22023';
  end if;

  if p_user_id <> v_user_id and not (v_org_id = any (core.current_user_managed_org_ids())) then
    raise exception 'Only a super_admin or a manager can remove users from a unit'
      using errcode = '42501';
  end if;

  update core.unit_memberships as um
  set is_deleted = true, deleted_at = now(), deleted_by = v_user_id, updated_by = v_user_id
  where um.user_id = p_user_id
    and um.unit_id = p_unit_id
    and not um.is_deleted;

  if not found then
    raise exception 'Member not found'
      using errcode = 'P0002';
  end if;
end;
$$;

revoke all on function public.remove_user_from_unit(uuid, uuid) from public, anon;
grant execute on function public.remove_user_from_unit(uuid, uuid) to app_user;

-- public.add_member_to_unit: the super_admin's way to put a member of the organization into a
-- unit with a role. Re-adding a removed member revives their row (defect 10); adding a live
-- member again is a duplicate, as in public.add_member_to_organization (change a role with
-- public.update_unit_member_role). The organization's super_admin only.
-- Raises 42501 when unauthenticated, not the super_admin or for the super_admin role;
-- 22023 for missing ids; P0002 'Unit not found' or for a role not usable here; P0001 when the
-- user is not a member of the organization; 23505 when the user is already a live member of
-- the unit.
create or replace function public.add_member_to_unit(p_unit_id uuid, p_user_id uuid, p_role_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid := core.unit_org_for_write(p_unit_id);
  v_membership_id uuid;
begin
  if not core.is_super_admin(v_org_id) then
    raise exception 'Only a super_admin can add members to a unit'
      using errcode = '42501';
  end if;

  perform core.check_unit_member_write(v_org_id, p_user_id, p_role_id);

  -- One statement decides, so a concurrent add of the same member cannot slip between a check
  -- and the write: a removed row is revived, a live row is left alone and nothing is returned.
  insert into core.unit_memberships as um (user_id, unit_id, role_id, created_by, updated_by)
  values (p_user_id, p_unit_id, p_role_id, v_user_id, v_user_id)
  on conflict (user_id, unit_id) do update
    set role_id = excluded.role_id,
        is_deleted = false,
        deleted_at = null,
        deleted_by = null,
        updated_by = v_user_id
    where um.is_deleted
  returning um.id into v_membership_id;

  if v_membership_id is null then
    raise exception 'User is already a member of this unit'
      using errcode = '23505';
  end if;
end;
$$;

revoke all on function public.add_member_to_unit(uuid, uuid, uuid) from public, anon;
grant execute on function public.add_member_to_unit(uuid, uuid, uuid) to app_user;

-- public.update_unit_member_role: changes the role of a live member of a unit.
-- The organization's super_admin only. Raises 42501 when unauthenticated, not the super_admin
-- or for the super_admin role; 22023 for missing ids; P0002 'Unit not found', 'Member not
-- found in unit' or for a role not usable here; P0001 when the user is not a member of the
-- organization.
create or replace function public.update_unit_member_role(p_unit_id uuid, p_user_id uuid, p_role_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid := core.unit_org_for_write(p_unit_id);
begin
  if not core.is_super_admin(v_org_id) then
    raise exception 'Only a super_admin can update unit member roles'
      using errcode = '42501';
  end if;

  perform core.check_unit_member_write(v_org_id, p_user_id, p_role_id);

  update core.unit_memberships as um
  set role_id = p_role_id,
      updated_by = v_user_id
  where um.user_id = p_user_id
    and um.unit_id = p_unit_id
    and not um.is_deleted;

  if not found then
    raise exception 'Member not found in unit'
      using errcode = 'P0002';
  end if;
end;
$$;

revoke all on function public.update_unit_member_role(uuid, uuid, uuid) from public, anon;
grant execute on function public.update_unit_member_role(uuid, uuid, uuid) to app_user;

-- public.remove_member_from_unit: soft-deletes a user's live membership of a unit.
-- The organization's super_admin only. Raises 42501 when unauthenticated or not the
-- super_admin, 22023 for missing ids, P0002 'Unit not found' or 'Member not found'.
create or replace function public.remove_member_from_unit(p_unit_id uuid, p_user_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid := core.unit_org_for_write(p_unit_id);
begin
  if not core.is_super_admin(v_org_id) then
    raise exception 'Only a super_admin can remove members from a unit'
      using errcode = '42501';
  end if;

  if p_user_id is null then
    raise exception 'User id is required'
      using errcode = '22023';
  end if;

  update core.unit_memberships as um
  set is_deleted = true, deleted_at = now(), deleted_by = v_user_id, updated_by = v_user_id
  where um.user_id = p_user_id
    and um.unit_id = p_unit_id
    and not um.is_deleted;

  if not found then
    raise exception 'Member not found'
      using errcode = 'P0002';
  end if;
end;
$$;

revoke all on function public.remove_member_from_unit(uuid, uuid) from public, anon;
grant execute on function public.remove_member_from_unit(uuid, uuid) to app_user;
