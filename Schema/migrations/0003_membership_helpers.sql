-- 0003_membership_helpers: who is the caller a member of? The helpers SMTA 0.8 defines (and that
-- application policies call), plus the fast-gate helpers SMTA's own policies are built on.
--
-- Liveness. A membership counts only while it is live: the membership row is not soft-deleted
-- and neither is its organization (nor, for unit memberships, its unit). A unit membership also
-- needs a live membership in the unit's organization: removing someone from an organization
-- closes every unit of it to them at once, whatever is left in core.unit_memberships.
--
-- Nested units. Unit membership is inherited downwards: a member of a unit is a member of every
-- live unit below it (with the same role, unless they also hold a membership of their own
-- further down, which then wins for that subtree). A soft-deleted unit interrupts inheritance
-- for everything below it. Organization super_admins and managers reach every unit of their
-- organization through the organization-level checks (current_user_managed_org_ids(),
-- is_org_super_admin_for_unit()), not through is_unit_member(), which answers "does the caller
-- hold a unit membership here", as in SMTA 0.8.
--
-- Every helper is STABLE, SECURITY DEFINER (it must read memberships whatever the caller's
-- RLS allows), pins search_path to '' and reads the caller only through
-- core.get_current_user_id(). Nothing here is cached across statements or transactions: a
-- removed membership or a deleted organization closes the gate for the very next statement.
--
-- THE FAST PATTERN FOR POLICIES. A helper called with a column argument runs once per row:
--     using (core.is_org_member(organization_id))                  -- slow: one call per row
-- Instead compare the column with the caller's set of ids, computed once per statement because
-- the call is wrapped in a scalar subquery (an InitPlan):
--     using (organization_id = any ((select core.current_user_org_ids())::uuid[]))
--     using (unit_id = any ((select core.current_user_unit_ids())::uuid[]))
--     with check (organization_id = any ((select core.current_user_managed_org_ids())::uuid[]))
-- The ::uuid[] cast matters: without it PostgreSQL reads "any ((select ...))" as
-- "any (subquery)" and compares a uuid with a uuid[] (operator does not exist).
-- The per-row helpers stay correct for SMTA 0.8-style policies and for single checks inside
-- functions.

-- core.current_user_org_ids(): ids of the live organizations where the caller has a live
-- membership (empty when nobody is authenticated). Callable by the runtime roles; raises
-- nothing.
create or replace function core.current_user_org_ids()
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(pg_catalog.array_agg(m.organization_id), '{}')
    from core.memberships m
    join core.organizations o on o.id = m.organization_id
    where m.user_id = core.get_current_user_id()
      and not m.is_deleted
      and not o.is_deleted
$$;

-- core.current_user_managed_org_ids(): ids of the live organizations the caller manages: they
-- hold its super_admin membership or a live membership whose role is super_admin or manager.
-- These callers may write other people's memberships. Callable by the runtime roles; raises
-- nothing.
create or replace function core.current_user_managed_org_ids()
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(pg_catalog.array_agg(m.organization_id), '{}')
    from core.memberships m
    join core.organizations o on o.id = m.organization_id
    join core.roles r on r.id = m.role_id
    where m.user_id = core.get_current_user_id()
      and not m.is_deleted
      and not o.is_deleted
      and (m.is_super_admin or r.name in ('super_admin', 'manager'))
$$;

-- core.current_user_super_admin_org_ids(): ids of the live organizations whose super_admin the
-- caller is (the holder of the is_super_admin membership). Callable by the runtime roles;
-- raises nothing.
create or replace function core.current_user_super_admin_org_ids()
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(pg_catalog.array_agg(m.organization_id), '{}')
    from core.memberships m
    join core.organizations o on o.id = m.organization_id
    where m.user_id = core.get_current_user_id()
      and m.is_super_admin
      and not m.is_deleted
      and not o.is_deleted
$$;

-- core.current_user_unit_ids(): ids of the live units the caller is a member of, directly or
-- by inheritance from a live ancestor unit (see the header). Callable by the runtime roles;
-- raises nothing.
create or replace function core.current_user_unit_ids()
returns uuid[]
language sql
stable
security definer
set search_path = ''
as $$
    with recursive reach (id) as (
        select u.id
        from core.unit_memberships um
        join core.units u on u.id = um.unit_id
        join core.organizations o on o.id = u.organization_id
        join core.memberships m on m.user_id = um.user_id and m.organization_id = u.organization_id
        where um.user_id = core.get_current_user_id()
          and not um.is_deleted
          and not u.is_deleted
          and not o.is_deleted
          and not m.is_deleted
        union
        select c.id
        from core.units c
        join reach r on c.parent_unit_id = r.id
        where not c.is_deleted
    )
    select coalesce(pg_catalog.array_agg(id), '{}') from reach
$$;

-- core.is_super_admin(p_org_id): is the caller the super_admin of this live organization?
-- Callable by the runtime roles; raises nothing (false for unknown ids or no caller).
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
    )
$$;

-- core.is_org_member(p_org_id): does the caller hold a live membership of this live
-- organization? Callable by the runtime roles; raises nothing.
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
          and not o.is_deleted
    )
$$;

-- core.get_org_id_for_unit(p_unit_id): the organization of a live unit, null for a deleted or
-- unknown unit. Callable by the runtime roles; raises nothing.
create or replace function core.get_org_id_for_unit(p_unit_id uuid)
returns uuid
language sql
stable
security definer
set search_path = ''
as $$
    select u.organization_id from core.units u where u.id = p_unit_id and not u.is_deleted
$$;

-- core.unit_membership_role_for(p_unit_id): the role name that applies to the caller in this
-- live unit: their own live unit membership, else the one of the nearest live ancestor they
-- belong to; null when none (see the header for liveness and inheritance). Internal building
-- block of is_unit_member() and has_unit_role(); callable by the runtime roles; raises nothing.
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
      and not m.is_deleted
      and not o.is_deleted
    order by c.depth
    limit 1
$$;

-- core.is_unit_member(p_unit_id): does the caller hold a live membership of this live unit, or
-- of a live unit above it? Callable by the runtime roles; raises nothing.
create or replace function core.is_unit_member(p_unit_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select core.unit_membership_role_for(p_unit_id) is not null
$$;

-- core.is_org_super_admin_for_unit(p_unit_id): is the caller the super_admin of the
-- organization owning this live unit? Callable by the runtime roles; raises nothing.
create or replace function core.is_org_super_admin_for_unit(p_unit_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select core.is_super_admin(core.get_org_id_for_unit(p_unit_id))
$$;

-- core.is_org_member_for_unit(p_unit_id): is the caller a member of the organization owning
-- this live unit? Callable by the runtime roles; raises nothing.
create or replace function core.is_org_member_for_unit(p_unit_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select core.is_org_member(core.get_org_id_for_unit(p_unit_id))
$$;

-- core.get_org_role(p_org_id): the name of the caller's role in this live organization, null
-- when not a member. Callable by the runtime roles; raises nothing.
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
      and not o.is_deleted
$$;

-- core.has_org_role(p_org_id, p_role): does the caller hold the role named p_role in this live
-- organization? Callable by the runtime roles; raises nothing.
create or replace function core.has_org_role(p_org_id uuid, p_role text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(core.get_org_role(p_org_id) = p_role, false)
$$;

-- core.has_unit_role(p_unit_id, p_role): does the role named p_role apply to the caller in
-- this live unit (directly or inherited, see the header)? Callable by the runtime roles;
-- raises nothing.
create or replace function core.has_unit_role(p_unit_id uuid, p_role text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(core.unit_membership_role_for(p_unit_id) = p_role, false)
$$;

-- core.shares_organization(p_user_id): do the caller and p_user_id both hold live memberships
-- of at least one live organization? (Colleague check for profiles and mentions.) Callable by
-- the runtime roles; raises nothing.
create or replace function core.shares_organization(p_user_id uuid)
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
          and theirs.organization_id = any ((select core.current_user_org_ids())::uuid[])
    )
$$;

-- core.get_current_user_email(): the caller's email, used to match invitations
-- (case-insensitively). Default: the caller's core.users_meta.email; adapters may replace the
-- body (same signature), e.g. Supabase prefers the verified JWT email. Null when unknown.
-- Callable by the runtime roles; raises nothing.
create or replace function core.get_current_user_email()
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select um.email
    from core.users_meta um
    where um.id = core.get_current_user_id()
      and not um.is_deleted
$$;

-- Only the runtime roles may call the helpers (application policies on app.* call them too).
do $$
declare
    v_fn regprocedure;
begin
    foreach v_fn in array array[
        'core.current_user_org_ids()',
        'core.current_user_managed_org_ids()',
        'core.current_user_super_admin_org_ids()',
        'core.current_user_unit_ids()',
        'core.is_super_admin(uuid)',
        'core.is_org_member(uuid)',
        'core.get_org_id_for_unit(uuid)',
        'core.unit_membership_role_for(uuid)',
        'core.is_unit_member(uuid)',
        'core.is_org_super_admin_for_unit(uuid)',
        'core.is_org_member_for_unit(uuid)',
        'core.get_org_role(uuid)',
        'core.has_org_role(uuid, text)',
        'core.has_unit_role(uuid, text)',
        'core.shares_organization(uuid)',
        'core.get_current_user_email()'
    ]::regprocedure[]
    loop
        execute format('revoke all on function %s from public', v_fn);
        execute format('grant execute on function %s to app_user, app_admin', v_fn);
    end loop;
end
$$;
