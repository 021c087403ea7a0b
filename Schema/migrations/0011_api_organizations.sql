-- 0011_api_organizations: organizations as seen by their members, and what their super_admin
-- may do with them (rename, describe, delete, restore, hand over).
--
-- Every function is SECURITY DEFINER with `search_path = ''` and decides itself who may call
-- it, through the membership helpers of 0003 (a "live" member: membership not deleted, in an
-- organization not deleted). Errors follow Schema/README.md: 42501 not allowed (and no
-- identity), P0002 not found, 22023 invalid input, P0001 any other rule. An organization the
-- caller does not belong to is reported as "not found", never as "forbidden", so that its
-- existence does not leak. Audit rows are written by the triggers of 0004, not here.

-- public.list_my_organizations: the live organizations the caller is a live member of, with
-- the caller's role name and its label (the role's description). Any authenticated user.
-- Raises 42501 when unauthenticated.
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
    and not o.is_deleted
  order by o.name, o.id;
end;
$$;

revoke all on function public.list_my_organizations() from public, anon;
grant execute on function public.list_my_organizations() to app_user;

-- public.get_user_organizations: the same rows as public.list_my_organizations (upstream keeps
-- both names). Any authenticated user. Raises 42501 when unauthenticated.
create or replace function public.get_user_organizations()
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
begin
  return query
  select mo.id, mo.name, mo.description, mo.role, mo.role_label
  from public.list_my_organizations() as mo;
end;
$$;

revoke all on function public.get_user_organizations() from public, anon;
grant execute on function public.get_user_organizations() to app_user;

-- public.get_organization: one organization, for its live members; no row when the
-- organization does not exist, is deleted, or the caller is not a member.
-- Raises 42501 when unauthenticated.
create or replace function public.get_organization(p_id uuid)
returns table (
  id uuid,
  name text,
  description text,
  created_by uuid,
  updated_by uuid,
  is_deleted boolean,
  deleted_at timestamptz,
  deleted_by uuid,
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

  if not core.is_org_member(p_id) then
    return;
  end if;

  return query
  select o.id, o.name, o.description, o.created_by, o.updated_by, o.is_deleted,
         o.deleted_at, o.deleted_by, o.created_at, o.updated_at
  from core.organizations as o
  where o.id = p_id
    and not o.is_deleted;
end;
$$;

revoke all on function public.get_organization(uuid) from public, anon;
grant execute on function public.get_organization(uuid) to app_user;

-- public.create_organization: creates an organization; the triggers of 0004 give it its
-- organizations_meta and platform rows and make the caller its super_admin.
-- Any authenticated user. Raises 42501 when unauthenticated, 22023 when the name is blank.
create or replace function public.create_organization(p_name text, p_description text default null)
returns table (
  id uuid,
  name text,
  created_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid := gen_random_uuid();
begin
  if p_name is null or btrim(p_name) = '' then
    raise exception 'Organization name is required'
      using errcode = '22023';
  end if;

  insert into core.organizations (id, name, description, created_by, updated_by)
  values (v_org_id, btrim(p_name), p_description, v_user_id, v_user_id);

  return query
  select o.id, o.name, o.created_at
  from core.organizations as o
  where o.id = v_org_id;
end;
$$;

revoke all on function public.create_organization(text, text) from public, anon;
grant execute on function public.create_organization(text, text) to app_user;

-- public.update_organization: sets an organization's name and description (an omitted
-- description is cleared, as upstream does). The organization's super_admin only.
-- Raises 42501 (unauthenticated, or not the super_admin), P0002 (not a member / no such live
-- organization), 22023 (missing id, blank name).
create or replace function public.update_organization(
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
  if p_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  if p_name is null or btrim(p_name) = '' then
    raise exception 'Organization name is required'
      using errcode = '22023';
  end if;

  if not core.is_org_member(p_id) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  if not core.is_super_admin(p_id) then
    raise exception 'Only a super_admin can update the organization'
      using errcode = '42501';
  end if;

  update core.organizations as o
  set name = btrim(p_name),
      description = p_description,
      updated_by = v_user_id
  where o.id = p_id
    and not o.is_deleted;

  return query
  select o.id, o.name, o.description, o.updated_at
  from core.organizations as o
  where o.id = p_id;
end;
$$;

revoke all on function public.update_organization(uuid, text, text) from public, anon;
grant execute on function public.update_organization(uuid, text, text) to app_user;

-- public.update_organization_meta: sets an organization's logo, address, timezone and locale
-- (each omitted value is cleared, as upstream does); the logo must be a live file of that
-- organization. The organization's super_admin only.
-- Raises 42501 (unauthenticated, or not the super_admin), P0002 (not a member / no such live
-- organization), 22023 (missing id, logo file not a live file of this organization).
create or replace function public.update_organization_meta(
  p_id uuid,
  p_logo_file_id uuid default null,
  p_address text default null,
  p_timezone text default null,
  p_locale text default null
)
returns table (
  id uuid,
  logo_file_id uuid,
  address text,
  timezone text,
  locale text,
  updated_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
begin
  if p_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  if not core.is_org_member(p_id) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  if not core.is_super_admin(p_id) then
    raise exception 'Only a super_admin can update the organization'
      using errcode = '42501';
  end if;

  if p_logo_file_id is not null and not exists (
    select 1
    from core.organization_files as f
    where f.id = p_logo_file_id
      and f.organization_id = p_id
      and not f.is_deleted
  ) then
    raise exception 'Invalid logo_file_id for this organization'
      using errcode = '22023';
  end if;

  update core.organizations_meta as om
  set logo_file_id = p_logo_file_id,
      address = p_address,
      timezone = p_timezone,
      locale = p_locale,
      updated_by = v_user_id
  where om.id = p_id
    and not om.is_deleted;

  if not found then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  return query
  select om.id, om.logo_file_id, om.address, om.timezone, om.locale, om.updated_at
  from core.organizations_meta as om
  where om.id = p_id;
end;
$$;

revoke all on function public.update_organization_meta(uuid, uuid, text, text, text) from public, anon;
grant execute on function public.update_organization_meta(uuid, uuid, text, text, text) to app_user;

-- public.delete_organization: soft-deletes an organization with its meta row, units (and
-- their meta and memberships), files, invitations and every membership but the
-- super_admin's. All of them get the same deleted_at, the clock time of this call (not now(),
-- which every statement of the transaction shares: rows deleted earlier in the same
-- transaction must not look deleted-with-the-organization), which is how
-- public.restore_organization later finds exactly what this call deleted. The
-- super_admin's membership stays live (it cannot be soft-deleted, see 0004), which is what
-- lets that user restore the organization; it grants nothing while the organization is
-- deleted, because a deleted organization closes every membership helper.
-- The organization's super_admin only. Raises 42501 (unauthenticated, or not the
-- super_admin), P0002 (not a member / no such live organization), 22023 (missing id).
create or replace function public.delete_organization(p_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_now timestamptz := clock_timestamp();
begin
  if p_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  if not core.is_org_member(p_id) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  if not core.is_super_admin(p_id) then
    raise exception 'Only a super_admin can delete the organization'
      using errcode = '42501';
  end if;

  -- Lock the organization so that no concurrent transfer or membership change interleaves.
  perform 1 from core.organizations as o where o.id = p_id for update;

  update core.unit_memberships as um
  set is_deleted = true, deleted_at = v_now, deleted_by = v_user_id, updated_by = v_user_id
  from core.units as u
  where u.id = um.unit_id
    and u.organization_id = p_id
    and not um.is_deleted;

  update core.unit_meta as umeta
  set is_deleted = true, deleted_at = v_now, deleted_by = v_user_id, updated_by = v_user_id
  from core.units as u
  where u.id = umeta.id
    and u.organization_id = p_id
    and not umeta.is_deleted;

  update core.units as u
  set is_deleted = true, deleted_at = v_now, deleted_by = v_user_id, updated_by = v_user_id
  where u.organization_id = p_id
    and not u.is_deleted;

  update core.invitations as i
  set is_deleted = true, deleted_at = v_now, deleted_by = v_user_id, updated_by = v_user_id
  where i.organization_id = p_id
    and not i.is_deleted;

  update core.organization_files as f
  set is_deleted = true, deleted_at = v_now, deleted_by = v_user_id, updated_by = v_user_id
  where f.organization_id = p_id
    and not f.is_deleted;

  update core.memberships as m
  set is_deleted = true, deleted_at = v_now, deleted_by = v_user_id, updated_by = v_user_id
  where m.organization_id = p_id
    and not m.is_super_admin
    and not m.is_deleted;

  update core.organizations_meta as om
  set is_deleted = true, deleted_at = v_now, deleted_by = v_user_id, updated_by = v_user_id
  where om.id = p_id
    and not om.is_deleted;

  update core.organizations as o
  set is_deleted = true, deleted_at = v_now, deleted_by = v_user_id, updated_by = v_user_id
  where o.id = p_id;
end;
$$;

revoke all on function public.delete_organization(uuid) from public, anon;
grant execute on function public.delete_organization(uuid) to app_user;

-- public.restore_organization: undoes public.delete_organization: restores the organization
-- and exactly the rows that deletion soft-deleted (same deleted_at); rows deleted earlier,
-- on their own, stay deleted. The deleted organization's super_admin only (the one live
-- membership a deletion leaves). Raises 42501 (unauthenticated, or a member who is not the
-- super_admin), P0002 (no such organization, or the caller has no membership in it),
-- P0001 (the organization is not deleted), 22023 (missing id).
create or replace function public.restore_organization(p_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_deleted_at timestamptz;
  v_is_deleted boolean;
  v_is_super_admin boolean;
begin
  if p_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  select o.is_deleted, o.deleted_at
  into v_is_deleted, v_deleted_at
  from core.organizations as o
  where o.id = p_id
  for update;

  -- The membership helpers treat a deleted organization as closed, so look at the raw row.
  select m.is_super_admin
  into v_is_super_admin
  from core.memberships as m
  where m.organization_id = p_id
    and m.user_id = v_user_id
    and not m.is_deleted;

  if v_is_deleted is null or v_is_super_admin is null then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  if not v_is_super_admin then
    raise exception 'Only a super_admin can restore the organization'
      using errcode = '42501';
  end if;

  if not v_is_deleted then
    raise exception 'Organization is not deleted'
      using errcode = 'P0001';
  end if;

  update core.organizations as o
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  where o.id = p_id;

  update core.organizations_meta as om
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  where om.id = p_id
    and om.is_deleted
    and om.deleted_at = v_deleted_at;

  update core.memberships as m
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  where m.organization_id = p_id
    and m.is_deleted
    and m.deleted_at = v_deleted_at;

  update core.organization_files as f
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  where f.organization_id = p_id
    and f.is_deleted
    and f.deleted_at = v_deleted_at;

  update core.invitations as i
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  where i.organization_id = p_id
    and i.is_deleted
    and i.deleted_at = v_deleted_at;

  update core.units as u
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  where u.organization_id = p_id
    and u.is_deleted
    and u.deleted_at = v_deleted_at;

  update core.unit_meta as umeta
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  from core.units as u
  where u.id = umeta.id
    and u.organization_id = p_id
    and umeta.is_deleted
    and umeta.deleted_at = v_deleted_at;

  update core.unit_memberships as um
  set is_deleted = false, deleted_at = null, deleted_by = null, updated_by = v_user_id
  from core.units as u
  where u.id = um.unit_id
    and u.organization_id = p_id
    and um.is_deleted
    and um.deleted_at = v_deleted_at;
end;
$$;

revoke all on function public.restore_organization(uuid) from public, anon;
grant execute on function public.restore_organization(uuid) to app_user;

-- public.transfer_super_admin: hands the organization over to another live member. The
-- organization row is locked first, so two transfers of one organization run one after the
-- other and the second sees the first's outcome: the organization always ends with exactly
-- one super_admin. The two memberships swap roles with the flag (the new owner gets the old
-- owner's role, normally super_admin; the old owner gets the new owner's previous role), so
-- a membership's role and its is_super_admin flag keep agreeing.
-- The organization's current super_admin only. Raises 42501 (unauthenticated, or not the
-- super_admin), P0002 (not a member / no such live organization; target not a live member),
-- P0001 (transfer to oneself), 22023 (missing argument).
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
      updated_by = v_user_id
  where m.id = v_target.id;
end;
$$;

revoke all on function public.transfer_super_admin(uuid, uuid) from public, anon;
grant execute on function public.transfer_super_admin(uuid, uuid) to app_user;

-- public.get_user_role: the caller's role name in an organization (null when not a live
-- member). Any authenticated user. Raises 42501 when unauthenticated.
create or replace function public.get_user_role(p_org_id uuid)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform core.require_user_id();
  return core.get_org_role(p_org_id);
end;
$$;

revoke all on function public.get_user_role(uuid) from public, anon;
grant execute on function public.get_user_role(uuid) to app_user;

-- public.get_user_permissions: the caller's role name and its CASL rules in an organization,
-- for the application to build its abilities; no row when not a live member.
-- Any authenticated user. Raises 42501 when unauthenticated.
create or replace function public.get_user_permissions(p_org_id uuid)
returns table (
  role_name text,
  casl_rules jsonb
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
  select r.name, r.casl_rules
  from core.memberships as m
  join core.organizations as o on o.id = m.organization_id
  join core.roles as r on r.id = m.role_id
  where m.user_id = v_user_id
    and m.organization_id = p_org_id
    and not m.is_deleted
    and not o.is_deleted;
end;
$$;

revoke all on function public.get_user_permissions(uuid) from public, anon;
grant execute on function public.get_user_permissions(uuid) to app_user;
