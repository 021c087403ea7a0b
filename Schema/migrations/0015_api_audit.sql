-- 0015_api_audit: reading an organization's audit trail.
--
-- The rows are written by the triggers of 0004 in the same transaction as each change, with
-- the organization and the actor (upstream wrote them from function bodies without an
-- organization, so its get_audit_log returned nothing: defect 3). Every live member of the
-- organization may read its trail, as upstream's RLS allowed.

-- public.get_audit_log: an organization's most recent audit rows, newest first, at most
-- p_limit of them (100 when null); no rows unless the caller is a live member of it.
-- Raises 42501 (unauthenticated), 22023 (p_limit outside 1..1000).
create or replace function public.get_audit_log(p_org_id uuid, p_limit int)
returns table (
  id uuid,
  actor_id uuid,
  target_table text,
  target_id uuid,
  action text,
  summary text,
  metadata jsonb,
  created_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_limit int := coalesce(p_limit, 100);
begin
  perform core.require_user_id();

  if v_limit < 1 or v_limit > 1000 then
    raise exception 'p_limit must be between 1 and 1000'
      using errcode = '22023';
  end if;

  if not core.is_org_member(p_org_id) then
    return;
  end if;

  return query
  select a.id, a.actor_id, a.target_table, a.target_id, a.action, a.summary, a.metadata, a.created_at
  from core.audit_logs as a
  where a.organization_id = p_org_id
  order by a.created_at desc, a.id desc
  limit v_limit;
end;
$$;

revoke all on function public.get_audit_log(uuid, int) from public, anon;
grant execute on function public.get_audit_log(uuid, int) to app_user;
