-- 0010_api_profile: the caller's own profile (core.users_meta), and the identity guard every
-- public.* function of 0010-0015 starts with.
--
-- All functions here are SECURITY DEFINER, owned by the migrating role: they read and write
-- core tables directly and make their own authorization decisions, so a caller gets exactly
-- what the function allows, never what a table grant happens to allow. The caller's identity
-- is still core.get_current_user_id() (a transaction-local setting, unchanged by SECURITY
-- DEFINER), and the audit triggers of 0004 record it as the actor of every change.

-- core.require_user_id: returns the caller's user id. Internal: called by the SECURITY DEFINER
-- API functions (as their owner), not executable by app roles. Raises 42501 when the request
-- carries no identity (anonymous or unauthenticated caller).
create or replace function core.require_user_id()
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_user_id uuid := core.get_current_user_id();
begin
  if v_user_id is null then
    raise exception 'Authentication required'
      using errcode = '42501';
  end if;
  return v_user_id;
end;
$$;

revoke all on function core.require_user_id() from public, anon;

-- public.get_user_profile: the caller's profile row (no row when none exists yet).
-- Any authenticated user, for themselves only. Raises 42501 when unauthenticated.
create or replace function public.get_user_profile()
returns table (
  id uuid,
  email text,
  first_name text,
  last_name text,
  avatar_url text,
  timezone text,
  locale text
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
  select um.id, um.email, um.first_name, um.last_name, um.avatar_url, um.timezone, um.locale
  from core.users_meta as um
  where um.id = v_user_id
    and not um.is_deleted;
end;
$$;

revoke all on function public.get_user_profile() from public, anon;
grant execute on function public.get_user_profile() to app_user;

-- public.update_user_profile: sets the caller's first and last name (null clears a name) and
-- returns the updated profile. Any authenticated user, for themselves only.
-- Raises 42501 when unauthenticated, P0002 when the caller has no profile row.
create or replace function public.update_user_profile(p_first_name text, p_last_name text)
returns table (
  id uuid,
  email text,
  first_name text,
  last_name text,
  avatar_url text,
  timezone text,
  locale text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
begin
  update core.users_meta as um
  set first_name = p_first_name,
      last_name = p_last_name,
      updated_by = v_user_id
  where um.id = v_user_id
    and not um.is_deleted;

  if not found then
    raise exception 'User profile not found'
      using errcode = 'P0002';
  end if;

  return query
  select um.id, um.email, um.first_name, um.last_name, um.avatar_url, um.timezone, um.locale
  from core.users_meta as um
  where um.id = v_user_id;
end;
$$;

revoke all on function public.update_user_profile(text, text) from public, anon;
grant execute on function public.update_user_profile(text, text) to app_user;
