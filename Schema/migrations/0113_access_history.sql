-- 0113_access_history: point-in-time answers about one person's access to an organization,
-- read from the audit trail the membership triggers write (0004): when they joined, changed
-- role, received or handed on ownership, got or lost an expiry, left or were removed, were
-- restored — in the organization and in each of its units.
--
-- Every change to core.memberships and core.unit_memberships, by any path, writes an audit row
-- in the same transaction (core.audit_row_change): the whole new row for an insert, the
-- changed columns (old and new) for an update, the action 'soft_delete' or 'restore' when
-- is_deleted flips. public.get_access_history turns the rows about one user's memberships of
-- one organization into events, oldest first. It reads only what the log holds, so it answers
-- for as far back as the log goes, and a change the log never saw (none, short of a superuser
-- disabling triggers) is not there.
--
-- Who may ask: the organization's super_admin and managers (live, unexpired), about anyone —
-- including people who have left, since the question is about the past. Others get 42501,
-- whether or not the organization exists. Roles are named as the roles table names them now (a
-- role deleted since keeps its name: roles are soft-deleted).

-- public.get_access_history: one user's access to an organization over time, from the audit
-- log. Raises 42501 when not signed in or not the organization's super_admin or a manager;
-- 22023 for a missing id.
create or replace function public.get_access_history(p_org_id uuid, p_user_id uuid)
returns table (
    occurred_at timestamptz,
    event text,
    unit_id uuid,
    role_name text,
    previous_role_name text,
    expires_at timestamptz,
    actor_id uuid
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    perform core.require_user_id();
    if p_org_id is null or p_user_id is null then
        raise exception 'Organization id and user id are required'
            using errcode = '22023';
    end if;
    if not (p_org_id = any (core.current_user_managed_org_ids())) then
        raise exception 'Only the organization''s super_admin and managers can read access history'
            using errcode = '42501';
    end if;

    return query
    with memberships as (
        -- the user's organization membership and unit memberships in this organization, removed
        -- ones included (rows are soft-deleted, so their ids stay)
        select m.id, null::uuid as unit_id
        from core.memberships as m
        where m.organization_id = p_org_id
          and m.user_id = p_user_id
        union all
        select um.id, um.unit_id
        from core.unit_memberships as um
        join core.units as u on u.id = um.unit_id
        where u.organization_id = p_org_id
          and um.user_id = p_user_id
    ),
    entries as (
        select a.id, a.created_at, a.action, a.actor_id, a.metadata, ms.unit_id
        from core.audit_logs as a
        join memberships as ms on ms.id = a.target_id
        where a.organization_id = p_org_id
          and a.target_table in ('core.memberships', 'core.unit_memberships')
    ),
    events as (
        -- one audit row may hold several events (a transfer changes the role and the owner flag)
        select e.id, e.created_at, e.actor_id, e.unit_id, x.event, x.role_id, x.previous_role_id, x.expires_at
        from entries as e
        cross join lateral (
            select 'joined' as event,
                   (e.metadata -> 'new' ->> 'role_id')::uuid as role_id,
                   null::uuid as previous_role_id,
                   (e.metadata -> 'new' ->> 'expires_at')::timestamptz as expires_at
            where e.action = 'insert'
            union all
            select case when e.actor_id = p_user_id then 'left' else 'removed' end, null, null, null
            where e.action in ('soft_delete', 'delete')
            union all
            select 'restored', null, null, null
            where e.action = 'restore'
            union all
            select 'role_changed',
                   (e.metadata -> 'changed' -> 'role_id' ->> 'new')::uuid,
                   (e.metadata -> 'changed' -> 'role_id' ->> 'old')::uuid,
                   null
            where e.action in ('update', 'restore') and e.metadata -> 'changed' ? 'role_id'
            union all
            select case when (e.metadata -> 'changed' -> 'is_super_admin' ->> 'new')::boolean
                        then 'became_owner' else 'handed_on_ownership' end,
                   null, null, null
            where e.action in ('update', 'restore') and e.metadata -> 'changed' ? 'is_super_admin'
            union all
            select case when e.metadata -> 'changed' -> 'expires_at' ->> 'new' is null
                        then 'expiry_cleared' else 'expiry_set' end,
                   null, null,
                   (e.metadata -> 'changed' -> 'expires_at' ->> 'new')::timestamptz
            where e.action in ('update', 'restore') and e.metadata -> 'changed' ? 'expires_at'
        ) as x
    )
    select ev.created_at, ev.event, ev.unit_id, r.name, pr.name, ev.expires_at, ev.actor_id
    from events as ev
    left join core.roles as r on r.id = ev.role_id
    left join core.roles as pr on pr.id = ev.previous_role_id
    order by ev.created_at, ev.id, ev.event;
end;
$$;

revoke all on function public.get_access_history(uuid, uuid) from public, anon;
grant execute on function public.get_access_history(uuid, uuid) to app_user;

-- =============================================================================================
-- Members
-- =============================================================================================

comment on function public.get_access_history(uuid, uuid) is
$$Returns one user's access to an organization over time, oldest first, from the audit log.
Events: joined, role_changed, became_owner, handed_on_ownership, expiry_set, expiry_cleared, left (their own act), removed (someone else's), restored; unit_id is null for the organization membership and names the unit for a unit membership. It covers people who have left, as far back as the audit log goes.
Callers: the organization's super_admin and managers.
Returns: one row per event (occurred_at, event, unit_id, role_name, previous_role_name, expires_at, actor_id); role_name is the role joined with or changed to, previous_role_name the one before a change, expires_at the expiry set.
Errors: 42501 when not signed in or not the organization's super_admin or a manager; 22023 for a missing id.$$;
