-- 0121_unit_links_follow_their_creator: an invitation link to a unit works only while its
-- creator could still create it.
--
-- 0112 lets a unit member (or a manager of the organization) create a link that joins a unit,
-- and judges the link at every use by whether its creator may still give its role in the
-- organization (core.user_may_grant_role), so that a demoted manager takes their links' power
-- with them. It did not ask whether the creator still reaches the unit: a member removed from
-- the unit (or demoted from manager) while still a member of the organization kept links that
-- joined new people, a second account of their own among them, to the unit they had lost. A
-- unit link is now 'inactive' too while its creator neither manages the organization nor
-- reaches the unit (their own live unit membership there or in a unit above it, within a live
-- organization membership); it works again if they regain it, as a link whose role its creator
-- regains does.

-- core.user_reaches_unit(p_user_id, p_unit_id): does the user reach the live unit p_unit_id
-- through a live, unexpired unit membership there or in a live unit above it, while a live,
-- unexpired member of its live organization? The rule of core.current_user_unit_ids, for any
-- user and one unit, without the active organization (a link is judged as its creator's, not
-- as the request's). Internal. Raises nothing.
create function core.user_reaches_unit(p_user_id uuid, p_unit_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    with recursive above (id) as (
        select u.id from core.units as u where u.id = p_unit_id and not u.is_deleted
        union
        select parent.id
        from core.units as parent
        join core.units as child on child.parent_unit_id = parent.id
        join above on above.id = child.id
        where not parent.is_deleted
    ) cycle id set in_cycle using path -- 0004 refuses cycles; this only bounds the walk
    select exists (
        select 1
        from above
        join core.unit_memberships as um on um.unit_id = above.id
        join core.units as u on u.id = um.unit_id
        join core.organizations as o on o.id = u.organization_id
        join core.memberships as m on m.user_id = um.user_id and m.organization_id = u.organization_id
        where not above.in_cycle
          and um.user_id = p_user_id
          and not um.is_deleted
          and (um.expires_at is null or um.expires_at > pg_catalog.now())
          and not o.is_deleted
          and not m.is_deleted
          and (m.expires_at is null or m.expires_at > pg_catalog.now())
    );
$$;

revoke all on function core.user_reaches_unit(uuid, uuid) from public, anon, authenticated, app_user;

-- core.user_manages_org(p_user_id, p_org_id): does the user manage the live organization (its
-- super_admin membership, or a live, unexpired membership whose role is super_admin or
-- manager)? The rule of core.current_user_managed_org_ids, for any user, without the active
-- organization. Internal. Raises nothing.
create function core.user_manages_org(p_user_id uuid, p_org_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1
        from core.memberships as m
        join core.roles as r on r.id = m.role_id
        join core.organizations as o on o.id = m.organization_id
        where m.user_id = p_user_id
          and m.organization_id = p_org_id
          and not m.is_deleted
          and (m.expires_at is null or m.expires_at > pg_catalog.now())
          and (m.is_super_admin or r.name in ('super_admin', 'manager'))
          and not o.is_deleted
    );
$$;

revoke all on function core.user_manages_org(uuid, uuid) from public, anon, authenticated, app_user;

-- core.invitation_link_status(link): 0112's, and a unit link is 'inactive' while its creator
-- neither manages the organization nor reaches the unit. Same signature. Internal. Raises
-- nothing.
create or replace function core.invitation_link_status(p_link core.invitation_links)
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select case
        when p_link.revoked_at is not null then 'revoked'
        when p_link.expires_at <= pg_catalog.now() then 'expired'
        when p_link.max_uses is not null and p_link.use_count >= p_link.max_uses then 'used_up'
        when coalesce(link_role.name, 'super_admin') = 'super_admin'
          or (p_link.unit_id is not null and not exists (
                select 1 from core.units as u
                where u.id = p_link.unit_id and not u.is_deleted))
          or not core.user_may_grant_role(p_link.created_by, p_link.organization_id, p_link.role_id)
          or (p_link.unit_id is not null
              and not core.user_manages_org(p_link.created_by, p_link.organization_id)
              and not core.user_reaches_unit(p_link.created_by, p_link.unit_id))
            then 'inactive'
        else 'active'
    end
    from (select core.role_name_for_org(p_link.organization_id, p_link.role_id) as name) as link_role;
$$;
