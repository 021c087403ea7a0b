-- 0014_api_files: metadata of an organization's files (the bytes live in object storage;
-- file_url points there).
--
-- As upstream, any live member of the organization may create, update, soft-delete and (our
-- extension) restore its files; what a member may do beyond that is the application's CASL
-- business. A file of another organization, a missing one and a deleted one are all "not
-- found" (P0002), so that nothing leaks across tenants. Reads return no rows instead of
-- raising, as upstream's RLS-filtered reads did.

-- public.create_file: records a file of an organization and returns it. Any live member of
-- the organization. Raises 42501 (unauthenticated), P0002 (not a member / no such live
-- organization), 22023 (missing organization id, blank URL or type, negative size).
create or replace function public.create_file(
  p_org_id uuid,
  p_file_url text,
  p_file_type text,
  p_file_size integer default null,
  p_file_specs jsonb default null
)
returns table (
  id uuid,
  organization_id uuid,
  file_url text,
  file_type text,
  created_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_file_id uuid := gen_random_uuid();
begin
  if p_org_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  if p_file_url is null or btrim(p_file_url) = '' then
    raise exception 'File URL is required'
      using errcode = '22023';
  end if;

  if p_file_type is null or btrim(p_file_type) = '' then
    raise exception 'File type is required'
      using errcode = '22023';
  end if;

  if p_file_size < 0 then
    raise exception 'File size must not be negative'
      using errcode = '22023';
  end if;

  if not core.is_org_member(p_org_id) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  insert into core.organization_files (id, organization_id, file_url, file_type, file_size, file_specs, created_by, updated_by)
  values (v_file_id, p_org_id, p_file_url, p_file_type, p_file_size, p_file_specs, v_user_id, v_user_id);

  return query
  select f.id, f.organization_id, f.file_url, f.file_type, f.created_at
  from core.organization_files as f
  where f.id = v_file_id;
end;
$$;

revoke all on function public.create_file(uuid, text, text, integer, jsonb) from public, anon;
grant execute on function public.create_file(uuid, text, text, integer, jsonb) to app_user;

-- public.update_file_metadata: updates a live file's specs and/or size (a null argument keeps
-- the current value) and returns it. Any live member of the file's organization.
-- Raises 42501 (unauthenticated), P0002 (no such live file in the caller's organizations),
-- 22023 (missing id, negative size).
create or replace function public.update_file_metadata(
  p_file_id uuid,
  p_file_specs jsonb default null,
  p_file_size integer default null
)
returns table (
  id uuid,
  file_url text,
  file_type text,
  updated_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid;
begin
  if p_file_id is null then
    raise exception 'File id is required'
      using errcode = '22023';
  end if;

  if p_file_size < 0 then
    raise exception 'File size must not be negative'
      using errcode = '22023';
  end if;

  select f.organization_id
  into v_org_id
  from core.organization_files as f
  where f.id = p_file_id
    and not f.is_deleted
  for update;

  if v_org_id is null or not core.is_org_member(v_org_id) then
    raise exception 'File not found'
      using errcode = 'P0002';
  end if;

  update core.organization_files as f
  set file_specs = coalesce(p_file_specs, f.file_specs),
      file_size = coalesce(p_file_size, f.file_size),
      updated_by = v_user_id
  where f.id = p_file_id;

  return query
  select f.id, f.file_url, f.file_type, f.updated_at
  from core.organization_files as f
  where f.id = p_file_id;
end;
$$;

revoke all on function public.update_file_metadata(uuid, jsonb, integer) from public, anon;
grant execute on function public.update_file_metadata(uuid, jsonb, integer) to app_user;

-- public.get_file: one live file, for live members of its organization; no row otherwise.
-- Raises 42501 when unauthenticated.
create or replace function public.get_file(p_file_id uuid)
returns table (
  id uuid,
  organization_id uuid,
  file_url text,
  file_type text,
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
  select f.id, f.organization_id, f.file_url, f.file_type, f.created_at, f.updated_at
  from core.organization_files as f
  where f.id = p_file_id
    and not f.is_deleted
    and core.is_org_member(f.organization_id);
end;
$$;

revoke all on function public.get_file(uuid) from public, anon;
grant execute on function public.get_file(uuid) to app_user;

-- public.list_files: an organization's live files, oldest first; no rows unless the caller
-- is a live member of it. Raises 42501 when unauthenticated.
create or replace function public.list_files(p_org_id uuid)
returns table (
  id uuid,
  organization_id uuid,
  file_url text,
  file_type text,
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

  if not core.is_org_member(p_org_id) then
    return;
  end if;

  return query
  select f.id, f.organization_id, f.file_url, f.file_type, f.created_at, f.updated_at
  from core.organization_files as f
  where f.organization_id = p_org_id
    and not f.is_deleted
  order by f.created_at, f.id;
end;
$$;

revoke all on function public.list_files(uuid) from public, anon;
grant execute on function public.list_files(uuid) to app_user;

-- public.delete_file: soft-deletes a live file. Any live member of the file's organization.
-- Raises 42501 (unauthenticated), P0002 (no such live file in the caller's organizations),
-- 22023 (missing id).
create or replace function public.delete_file(p_file_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid;
begin
  if p_file_id is null then
    raise exception 'File id is required'
      using errcode = '22023';
  end if;

  select f.organization_id
  into v_org_id
  from core.organization_files as f
  where f.id = p_file_id
    and not f.is_deleted
  for update;

  if v_org_id is null or not core.is_org_member(v_org_id) then
    raise exception 'File not found'
      using errcode = 'P0002';
  end if;

  update core.organization_files as f
  set is_deleted = true,
      deleted_at = now(),
      deleted_by = v_user_id,
      updated_by = v_user_id
  where f.id = p_file_id;
end;
$$;

revoke all on function public.delete_file(uuid) from public, anon;
grant execute on function public.delete_file(uuid) to app_user;

-- public.restore_file: restores a soft-deleted file of a live organization. Any live member
-- of that organization (as for deleting it). Raises 42501 (unauthenticated), P0002 (no such
-- file in the caller's organizations), P0001 (the file is not deleted), 22023 (missing id).
create or replace function public.restore_file(p_file_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_org_id uuid;
  v_is_deleted boolean;
begin
  if p_file_id is null then
    raise exception 'File id is required'
      using errcode = '22023';
  end if;

  select f.organization_id, f.is_deleted
  into v_org_id, v_is_deleted
  from core.organization_files as f
  where f.id = p_file_id
  for update;

  if v_org_id is null or not core.is_org_member(v_org_id) then
    raise exception 'File not found'
      using errcode = 'P0002';
  end if;

  if not v_is_deleted then
    raise exception 'File is not deleted'
      using errcode = 'P0001';
  end if;

  update core.organization_files as f
  set is_deleted = false,
      deleted_at = null,
      deleted_by = null,
      updated_by = v_user_id
  where f.id = p_file_id;
end;
$$;

revoke all on function public.restore_file(uuid) from public, anon;
grant execute on function public.restore_file(uuid) to app_user;
