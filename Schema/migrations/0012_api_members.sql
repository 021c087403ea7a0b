-- 0012_api_members: an organization's memberships: listing them, adding, re-adding, changing
-- a role, removing, leaving, and the legacy invite.
--
-- Rules (upstream's semantics, with its defects fixed; see smta-0.8.md):
-- - only the organization's super_admin adds members and changes roles; the super_admin
--   removes members (remove_member_from_organization), and so may managers through upstream's
--   other spelling, remove_user_from_organization;
-- - nobody changes their own membership here (leaving is public.leave_organization), nobody
--   touches the super_admin's membership, and no function here grants the super_admin role:
--   ownership (the is_super_admin flag) moves only through public.transfer_super_admin (0011).
--   A direct table write is the one way to give another member the super_admin *role* without
--   the flag, and only the super_admin may do it (core.guard_direct_membership_write, 0004,
--   kept because SMTA 0.8's suite does it); nobody sets the flag by a direct write;
-- - a role must be usable in the organization: a global role or one of that organization's
--   own roles (core.assert_assignable_role below);
-- - a removed member can be added again: the removed membership is revived (defect 10);
-- - removing a member also soft-deletes their unit memberships in that organization, so no
--   unit access outlives the organization membership.
-- Errors follow Schema/README.md; an organization the caller does not belong to is "not
-- found" (P0002), so that its existence does not leak.

-- core.assert_assignable_role: checks that a role may be given to a member of an
-- organization (organization or unit membership, invitation) and returns its name. Internal:
-- called by the SECURITY DEFINER API functions. Raises 22023 (no role id), P0002 (no such
-- live role, or another organization's role), 42501 (the super_admin role, which only
-- public.transfer_super_admin moves).
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

  return v_name;
end;
$$;

revoke all on function core.assert_assignable_role(uuid, uuid) from public, anon;

-- core.soft_delete_membership: soft-deletes a user's live membership of an organization and
-- their unit memberships in that organization's units; returns whether a live membership
-- was found. Internal: callers have already authorized the change; the super_admin
-- membership is refused by the trigger of 0004. Raises nothing itself.
create or replace function core.soft_delete_membership(p_org_id uuid, p_user_id uuid, p_actor_id uuid)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update core.unit_memberships as um
  set is_deleted = true, deleted_at = now(), deleted_by = p_actor_id, updated_by = p_actor_id
  from core.units as u
  where u.id = um.unit_id
    and u.organization_id = p_org_id
    and um.user_id = p_user_id
    and not um.is_deleted;

  update core.memberships as m
  set is_deleted = true, deleted_at = now(), deleted_by = p_actor_id, updated_by = p_actor_id
  where m.organization_id = p_org_id
    and m.user_id = p_user_id
    and not m.is_deleted;

  return found;
end;
$$;

revoke all on function core.soft_delete_membership(uuid, uuid, uuid) from public, anon;

-- public.list_organization_members: the live members of an organization with their profile,
-- role and role label; no rows unless the caller is a live member of that organization.
-- A member without a profile row is listed with empty profile fields.
-- Raises 42501 when unauthenticated.
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
begin
  perform core.require_user_id();

  if not core.is_org_member(p_id) then
    return;
  end if;

  return query
  select m.user_id, um.email, um.first_name, um.last_name, r.name, r.description, m.is_super_admin
  from core.memberships as m
  join core.roles as r on r.id = m.role_id
  left join core.users_meta as um on um.id = m.user_id and not um.is_deleted
  where m.organization_id = p_id
    and not m.is_deleted
  order by m.is_super_admin desc, um.email, m.user_id;
end;
$$;

revoke all on function public.list_organization_members(uuid) from public, anon;
grant execute on function public.list_organization_members(uuid) to app_user;

-- public.add_member_to_organization: adds an existing user (one with a profile row) to an
-- organization with a role; a previously removed member is revived with the new role.
-- The organization's super_admin only. Raises 42501 (unauthenticated, not the super_admin,
-- super_admin role), P0002 (not a member / no such live organization; no such user; role
-- not usable here), 23505 (already a live member), 22023 (missing argument).
create or replace function public.add_member_to_organization(p_org_id uuid, p_user_id uuid, p_role_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_tombstone_id uuid;
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
          updated_by = v_user_id
      where m.id = v_tombstone_id;
    else
      insert into core.memberships (user_id, organization_id, role_id, is_super_admin, created_by, updated_by)
      values (p_user_id, p_org_id, p_role_id, false, v_user_id, v_user_id);
    end if;
  exception
    when unique_violation then
      -- A concurrent call added the same member first.
      raise exception 'User is already a member of this organization'
        using errcode = '23505';
  end;
end;
$$;

revoke all on function public.add_member_to_organization(uuid, uuid, uuid) from public, anon;
grant execute on function public.add_member_to_organization(uuid, uuid, uuid) to app_user;

-- public.update_member_role: changes another member's role. The organization's super_admin
-- only; not their own membership, and never to or from super_admin (use
-- public.transfer_super_admin). Raises 42501 (unauthenticated, not the super_admin, own or
-- super_admin membership, super_admin role), P0002 (not a member / no such live organization;
-- target not a live member; role not usable here), 22023 (missing argument).
create or replace function public.update_member_role(p_org_id uuid, p_user_id uuid, p_role_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_target_is_super_admin boolean;
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
    raise exception 'Only a super_admin can update member roles'
      using errcode = '42501';
  end if;

  if p_user_id = v_user_id then
    raise exception 'You cannot change your own membership'
      using errcode = '42501';
  end if;

  perform core.assert_assignable_role(p_org_id, p_role_id);

  select m.is_super_admin
  into v_target_is_super_admin
  from core.memberships as m
  where m.organization_id = p_org_id
    and m.user_id = p_user_id
    and not m.is_deleted
  for update;

  if v_target_is_super_admin is null then
    raise exception 'Member not found in organization'
      using errcode = 'P0002';
  end if;

  if v_target_is_super_admin then
    raise exception 'Cannot change the super_admin membership. Use public.transfer_super_admin() to transfer ownership.'
      using errcode = '42501';
  end if;

  update core.memberships as m
  set role_id = p_role_id,
      updated_by = v_user_id
  where m.organization_id = p_org_id
    and m.user_id = p_user_id
    and not m.is_deleted;
end;
$$;

revoke all on function public.update_member_role(uuid, uuid, uuid) from public, anon;
grant execute on function public.update_member_role(uuid, uuid, uuid) to app_user;

-- public.remove_member_from_organization: soft-deletes a member's membership (and their unit
-- memberships in the organization). The organization's super_admin only; the super_admin's
-- own membership cannot be removed (transfer first).
-- Raises 42501 (unauthenticated, not the super_admin), P0002 (not a member / no such live
-- organization; target not a live member), P0001 (target is the super_admin), 22023
-- (missing argument).
create or replace function public.remove_member_from_organization(p_org_id uuid, p_user_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
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
    raise exception 'Only a super_admin can remove members from the organization'
      using errcode = '42501';
  end if;

  -- The caller is the super_admin, so this also refuses removing oneself.
  if exists (
    select 1
    from core.memberships as m
    where m.organization_id = p_org_id
      and m.user_id = p_user_id
      and m.is_super_admin
      and not m.is_deleted
  ) then
    raise exception 'Cannot soft-delete super_admin membership. Transfer super_admin status first.'
      using errcode = 'P0001';
  end if;

  if not core.soft_delete_membership(p_org_id, p_user_id, v_user_id) then
    raise exception 'Member not found'
      using errcode = 'P0002';
  end if;
end;
$$;

revoke all on function public.remove_member_from_organization(uuid, uuid) from public, anon;
grant execute on function public.remove_member_from_organization(uuid, uuid) to app_user;

-- public.remove_user_from_organization: upstream's other spelling of removal (arguments the
-- other way round): soft-deletes another member's membership and their unit memberships in
-- the organization. The organization's super_admin or a manager; never the super_admin's
-- membership, never one's own (use public.leave_organization).
-- Raises 42501 (unauthenticated, neither super_admin nor manager, own membership), P0002 (not
-- a member / no such live organization; target not a live member), P0001 (target is the
-- super_admin), 22023 (missing argument).
create or replace function public.remove_user_from_organization(p_user_id uuid, p_org_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
begin
  if p_user_id is null or p_org_id is null then
    raise exception 'User id and organization id are required'
      using errcode = '22023';
  end if;

  if not core.is_org_member(p_org_id) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  if exists (
    select 1
    from core.memberships as m
    where m.organization_id = p_org_id
      and m.user_id = p_user_id
      and m.is_super_admin
      and not m.is_deleted
  ) then
    raise exception 'Cannot soft-delete super_admin membership. Transfer super_admin status first.'
      using errcode = 'P0001';
  end if;

  if not coalesce(p_org_id = any (core.current_user_managed_org_ids()), false) then
    raise exception 'Only a super_admin or a manager can remove members from the organization'
      using errcode = '42501';
  end if;

  if p_user_id = v_user_id then
    raise exception 'You cannot remove yourself: use public.leave_organization()'
      using errcode = '42501';
  end if;

  if not core.soft_delete_membership(p_org_id, p_user_id, v_user_id) then
    raise exception 'Member not found'
      using errcode = 'P0002';
  end if;
end;
$$;

revoke all on function public.remove_user_from_organization(uuid, uuid) from public, anon;
grant execute on function public.remove_user_from_organization(uuid, uuid) to app_user;

-- public.leave_organization: the caller leaves an organization: their membership and their
-- unit memberships in it are soft-deleted. Any live member except the super_admin, who must
-- transfer ownership first. Raises 42501 (unauthenticated), P0002 (not a member / no such
-- live organization), P0001 (the caller is the super_admin), 22023 (missing id).
create or replace function public.leave_organization(p_org_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
begin
  if p_org_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  if not core.is_org_member(p_org_id) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  if core.is_super_admin(p_org_id) then
    raise exception 'The super_admin cannot leave the organization. Transfer super_admin status first.'
      using errcode = 'P0001';
  end if;

  perform core.soft_delete_membership(p_org_id, v_user_id, v_user_id);
end;
$$;

revoke all on function public.leave_organization(uuid) from public, anon;
grant execute on function public.leave_organization(uuid) to app_user;

-- public.invite_user_to_organization: upstream's legacy invite, which named no organization
-- and added the user to an arbitrary one of the caller's organizations without asking them
-- (defect 4). Here it never adds anyone: when the caller belongs to exactly one organization,
-- it creates a proper invitation there through public.create_invitation (all of its rules
-- apply: any live member may invite, never as super_admin), and otherwise refuses and points
-- to public.create_invitation. It returns nothing, as upstream's signature does, so the raw
-- token is not returned: obtain a deliverable one with public.resend_invitation, or call
-- public.create_invitation directly.
-- Any authenticated user. Raises 42501 (unauthenticated, in no organization), P0001 (in
-- several organizations), and whatever public.create_invitation raises.
create or replace function public.invite_user_to_organization(p_email text, p_role_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_org_ids uuid[];
begin
  perform core.require_user_id();

  v_org_ids := coalesce(core.current_user_org_ids(), '{}'::uuid[]);

  if cardinality(v_org_ids) = 0 then
    raise exception 'You are not a member of any organization to invite users to'
      using errcode = '42501';
  end if;

  if cardinality(v_org_ids) > 1 then
    raise exception 'You belong to several organizations: use public.create_invitation(p_email, p_organization_id, p_role_id) to choose one'
      using errcode = 'P0001';
  end if;

  perform public.create_invitation(p_email, v_org_ids[1], p_role_id);
end;
$$;

revoke all on function public.invite_user_to_organization(text, uuid) from public, anon;
grant execute on function public.invite_user_to_organization(text, uuid) to app_user;
