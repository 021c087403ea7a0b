-- 0013_api_roles: roles scoped to one organization (our extension; upstream's roles are all
-- global although its docs call them per-organization, defect 9).
--
-- A role with core.roles.organization_id null is global (the seeded super_admin, manager and
-- team); a role with an organization_id belongs to that organization only, and
-- core.assert_assignable_role (0012) refuses it anywhere else. core.roles.name stays
-- globally unique, because upstream's fixtures upsert roles on it: two organizations cannot
-- both have a role named "chef", and the second gets a clear 23505.

-- public.create_role: creates a role owned by an organization and returns it. The
-- organization's super_admin only. Raises 42501 (unauthenticated, not the super_admin),
-- P0002 (not a member / no such live organization), 22023 (missing id, blank or overlong
-- name, CASL rules not a JSON array), 23505 (a role with that name already exists).
create or replace function public.create_role(
  p_org_id uuid,
  p_name text,
  p_description text default null,
  p_casl_rules jsonb default '[]'
)
returns table (
  id uuid,
  organization_id uuid,
  name text,
  description text,
  casl_rules jsonb
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_name text := btrim(p_name);
  v_rules jsonb := coalesce(p_casl_rules, '[]'::jsonb);
  v_role_id uuid := gen_random_uuid();
begin
  if p_org_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  if not core.is_org_member(p_org_id) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  if not core.is_super_admin(p_org_id) then
    raise exception 'Only a super_admin can create roles'
      using errcode = '42501';
  end if;

  if v_name is null or v_name = '' then
    raise exception 'Role name is required'
      using errcode = '22023';
  end if;

  if char_length(v_name) > 100 then
    raise exception 'Role name must be at most 100 characters'
      using errcode = '22023';
  end if;

  if jsonb_typeof(v_rules) <> 'array' then
    raise exception 'CASL rules must be a JSON array'
      using errcode = '22023';
  end if;

  begin
    insert into core.roles (id, organization_id, name, description, casl_rules, created_by, updated_by)
    values (v_role_id, p_org_id, v_name, p_description, v_rules, v_user_id, v_user_id);
  exception
    when unique_violation then
      raise exception 'A role with this name already exists'
        using errcode = '23505';
  end;

  return query
  select r.id, r.organization_id, r.name, r.description, r.casl_rules
  from core.roles as r
  where r.id = v_role_id;
end;
$$;

revoke all on function public.create_role(uuid, text, text, jsonb) from public, anon;
grant execute on function public.create_role(uuid, text, text, jsonb) to app_user;

-- public.list_roles: the roles usable in an organization: the global roles, then that
-- organization's own, live ones only; no rows unless the caller is a live member of it.
-- Raises 42501 when unauthenticated.
create or replace function public.list_roles(p_org_id uuid)
returns table (
  id uuid,
  organization_id uuid,
  name text,
  description text,
  casl_rules jsonb
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
  select r.id, r.organization_id, r.name, r.description, r.casl_rules
  from core.roles as r
  where not r.is_deleted
    and (r.organization_id is null or r.organization_id = p_org_id)
  order by r.organization_id nulls first, r.name;
end;
$$;

revoke all on function public.list_roles(uuid) from public, anon;
grant execute on function public.list_roles(uuid) to app_user;
