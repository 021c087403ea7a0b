-- 0116_unit_roles: team roles that count. A member's role in a unit — their own unit
-- membership's, else that of the nearest unit above it they belong to (as
-- core.current_user_unit_roles walks them, 0111) — now counts in public.get_user_permissions:
-- asked about a unit (p_unit_id), it answers with the caller's EFFECTIVE role there, the higher
-- of their organization role and their unit role, and that role's CASL rules, so that an app
-- builds the ability for a unit's resources from one call.
--
-- "Higher": SMTA's built-in roles rank super_admin (or the owner's membership) above manager
-- above everything else; an organization's own roles carry no power in SMTA's gate and rank
-- with team. On equal rank the unit role wins, being the more specific: a team member who is
-- a unit's "reviewer" is a reviewer there. A unit the caller does not reach — neither a member
-- of it or of a unit above it, nor the organization's super_admin or a manager — gets no row,
-- like an organization the caller is not in.
--
-- public.get_user_unit_permissions keeps SMTA 0.8's answer (the unit role alone), which apps
-- built for SMTA 0.8 rely on.

-- core.role_rank(p_role_id, p_is_owner): how much a role gives, for comparing an organization
-- role with a unit role: 3 for the owner's membership or the global super_admin role, 2 for
-- the global manager role, 1 for any other role. Internal. Raises nothing.
create or replace function core.role_rank(p_role_id uuid, p_is_owner boolean)
returns integer
language sql
stable
set search_path = ''
as $$
    select case
        when p_is_owner then 3
        when r.organization_id is null and r.name = 'super_admin' then 3
        when r.organization_id is null and r.name = 'manager' then 2
        else 1
    end
    from core.roles as r
    where r.id = p_role_id;
$$;

revoke all on function core.role_rank(uuid, boolean) from public, anon, authenticated, app_user;

-- public.get_user_permissions (0013, 0111), with an optional unit. The result keeps its shape;
-- the new trailing argument has a default, so every SMTA 0.8 call works unchanged. Recreated
-- (the signature changes); its grants and comment are set again below.
drop function public.get_user_permissions(uuid);

-- public.get_user_permissions(p_org_id, p_unit_id): the caller's role and its CASL rules in the
-- organization; with p_unit_id, in that unit of it: the higher of the organization role and the
-- unit role (own or inherited), the unit role on a tie. Live, unexpired memberships of a live
-- organization (the active one, if the request names one). Raises 42501 when not signed in.
create function public.get_user_permissions(p_org_id uuid, p_unit_id uuid default null)
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
  if p_unit_id is null then
    return query
    select r.name, r.casl_rules
    from core.memberships as m
    join core.organizations as o on o.id = m.organization_id
    join core.roles as r on r.id = m.role_id
    where m.user_id = v_user_id
      and m.organization_id = p_org_id
      and not m.is_deleted
      and (m.expires_at is null or m.expires_at > pg_catalog.now())
      and not o.is_deleted
      and (core.current_organization_id() is null or m.organization_id = core.current_organization_id());
    return;
  end if;

  return query
  with organization_role as (
    select m.role_id, core.role_rank(m.role_id, m.is_super_admin) as rank
    from core.memberships as m
    join core.organizations as o on o.id = m.organization_id
    join core.units as u on u.organization_id = m.organization_id and u.id = p_unit_id and not u.is_deleted
    where m.user_id = v_user_id
      and m.organization_id = p_org_id
      and not m.is_deleted
      and (m.expires_at is null or m.expires_at > pg_catalog.now())
      and not o.is_deleted
      and (core.current_organization_id() is null or m.organization_id = core.current_organization_id())
  ),
  unit_role as (
    select mine.role_id, core.role_rank(mine.role_id, false) as rank
    from core.current_user_unit_roles() as mine
    where mine.unit_id = p_unit_id
  ),
  candidates as (
    -- the organization role counts where the caller reaches the unit: through a unit role, or
    -- as the organization's super_admin or a manager (who reach every unit)
    select o.role_id, o.rank, 0 as specificity
    from organization_role as o
    where exists (select 1 from unit_role) or o.rank >= 2
    union all
    select ur.role_id, ur.rank, 1
    from unit_role as ur
    where exists (select 1 from organization_role)
  )
  select r.name, r.casl_rules
  from candidates as c
  join core.roles as r on r.id = c.role_id
  order by c.rank desc, c.specificity desc
  limit 1;
end;
$$;

revoke all on function public.get_user_permissions(uuid, uuid) from public, anon;
grant execute on function public.get_user_permissions(uuid, uuid) to app_user;

-- =============================================================================================
-- Organizations
-- =============================================================================================

comment on function public.get_user_permissions(uuid, uuid) is
$$Returns the caller's role and its CASL rules in an organization, or in one of its units, to build the app's abilities.
With p_unit_id, the role is the caller's effective role in that unit: the higher of their organization role and their unit role (their own membership of the unit, else that of the nearest unit above it), the unit role on a tie (super_admin ranks above manager above every other role). Build the ability for a unit's resources from it.
Callers: any signed-in user.
Returns: one row (role_name, casl_rules); no row when the caller is not a live member of that live organization, or, for a unit, when they do not reach it (no unit role there or above, and not the super_admin or a manager).
Errors: 42501 when not signed in.$$;
