-- 0021_platform: the SaaS operator's functions (platform.*): platform users and roles, settings,
-- feature flags, subscription overrides, platform organizations, the action log and system
-- events.
--
-- Who may call them. The `platform` schema is usable by app_admin only (0001/0005), and every
-- function here is executable by app_admin only (service_role on Supabase, the backend's admin
-- login elsewhere): `anon` and `authenticated` cannot reach any of them. Inside, the guards
-- below decide with the request's identity (core.get_current_user_id()):
--   * no identity: the backend itself (a webhook handler, a job, the CLI) acting with the
--     service role. It is trusted: it already holds BYPASSRLS and every table of this schema.
--   * an identity: the backend acts on behalf of that user, who must be a live platform user
--     (reads) or a platform super_admin (writes), as upstream SMTA requires.
--
-- Every write is recorded in platform.platform_action_logs through platform.log_platform_action.
-- All functions are SECURITY DEFINER, owned by the migrating role, with an empty search_path.
-- Each is followed by its privileges: PostgreSQL grants EXECUTE to PUBLIC on creation (and
-- Supabase's default privileges may grant anon/authenticated directly), so each one is revoked
-- from those and granted to app_admin alone.

-- The three platform roles, with upstream's fixed ids (its fixtures insert the same rows and
-- skip existing names). A fresh installation needs them to create its first platform user.
insert into platform.platform_roles (id, name, description, casl_rules)
values
  ('10000000-0000-0000-0000-000000000001', 'super_admin',
   'Operates the whole platform',
   '[{"action": "manage", "subject": "all"}]'),
  ('10000000-0000-0000-0000-000000000002', 'platform_admin',
   'Administers organizations and users',
   '[{"action": ["read", "create", "update"], "subject": ["Organization", "User"]},
     {"action": "read", "subject": "AuditLog"}]'),
  ('10000000-0000-0000-0000-000000000003', 'platform_viewer',
   'Reads platform data',
   '[{"action": "read", "subject": ["Organization", "User"]}]')
on conflict do nothing;

-- ---------------------------------------------------------------------------------------------
-- Guards
-- ---------------------------------------------------------------------------------------------

-- platform.is_platform_user: whether the caller's identity is a live platform user.
-- Executable by app_admin. Raises nothing (false without an identity).
create or replace function platform.is_platform_user()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from platform.platform_users as pu
    where pu.user_id = core.get_current_user_id()
      and not pu.is_deleted
  );
$$;

revoke all on function platform.is_platform_user() from public, anon, authenticated;
grant execute on function platform.is_platform_user() to app_admin;

-- platform.is_platform_super_admin: whether the caller's identity is a live platform user whose
-- platform role is super_admin. Executable by app_admin. Raises nothing.
create or replace function platform.is_platform_super_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select 1
    from platform.platform_users as pu
    join platform.platform_roles as pr on pr.id = pu.role_id
    where pu.user_id = core.get_current_user_id()
      and not pu.is_deleted
      and not pr.is_deleted
      and pr.name = 'super_admin'
  );
$$;

revoke all on function platform.is_platform_super_admin() from public, anon, authenticated;
grant execute on function platform.is_platform_super_admin() to app_admin;

-- platform.ensure_platform_user: passes for the backend without an identity and for a live
-- platform user. Executable by app_admin. Raises 42501 for any other identity.
create or replace function platform.ensure_platform_user()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if core.get_current_user_id() is not null and not platform.is_platform_user() then
    raise exception 'Access denied: platform user required'
      using errcode = '42501';
  end if;
end;
$$;

revoke all on function platform.ensure_platform_user() from public, anon, authenticated;
grant execute on function platform.ensure_platform_user() to app_admin;

-- platform.ensure_platform_admin: passes for the backend without an identity and for a platform
-- super_admin (upstream's meaning of "platform admin"). Executable by app_admin.
-- Raises 42501 for any other identity.
create or replace function platform.ensure_platform_admin()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if core.get_current_user_id() is not null and not platform.is_platform_super_admin() then
    raise exception 'Access denied: platform super_admin role required'
      using errcode = '42501';
  end if;
end;
$$;

revoke all on function platform.ensure_platform_admin() from public, anon, authenticated;
grant execute on function platform.ensure_platform_admin() to app_admin;

-- platform.get_platform_user_role: the caller's platform role name (null for the backend
-- without an identity). Platform users and the service role. Raises 42501 otherwise.
create or replace function platform.get_platform_user_role()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform platform.ensure_platform_user();

  return (
    select pr.name
    from platform.platform_users as pu
    join platform.platform_roles as pr on pr.id = pu.role_id
    where pu.user_id = core.get_current_user_id()
      and not pu.is_deleted
  );
end;
$$;

revoke all on function platform.get_platform_user_role() from public, anon, authenticated;
grant execute on function platform.get_platform_user_role() to app_admin;

-- ---------------------------------------------------------------------------------------------
-- Action log and system events
-- ---------------------------------------------------------------------------------------------

-- platform.log_platform_action: appends one row to the platform action log, attributed to the
-- calling platform user (no user for the backend itself). Platform users and the service role.
-- Raises 42501 for other identities, 22023 when p_action is empty.
create or replace function platform.log_platform_action(
  p_action text,
  p_target_table text,
  p_target_id uuid,
  p_summary text,
  p_metadata jsonb
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.get_current_user_id();
  v_platform_user_id uuid;
begin
  perform platform.ensure_platform_user();

  if coalesce(btrim(p_action), '') = '' then
    raise exception 'An action is required'
      using errcode = '22023';
  end if;

  select pu.id into v_platform_user_id
  from platform.platform_users as pu
  where pu.user_id = v_user_id;

  insert into platform.platform_action_logs (
    platform_user_id, auth_user_id, action_type, target_table, target_id, summary, metadata
  )
  values (
    v_platform_user_id,
    -- auth_user_id references platform_users(user_id): only a platform user's id fits.
    case when v_platform_user_id is not null then v_user_id end,
    p_action, p_target_table, p_target_id, p_summary, p_metadata
  );
end;
$$;

revoke all on function platform.log_platform_action(text, text, uuid, text, jsonb) from public, anon, authenticated;
grant execute on function platform.log_platform_action(text, text, uuid, text, jsonb) to app_admin;

-- platform.get_platform_action_log: the latest p_limit (1-10000, default 100) platform actions,
-- newest first; the read is itself logged. Platform users and the service role.
-- Raises 42501 for other identities, 22023 for a limit out of range.
create or replace function platform.get_platform_action_log(p_limit int default 100)
returns table (
  id uuid,
  platform_user_id uuid,
  action_type text,
  target_table text,
  target_id uuid,
  summary text,
  metadata jsonb,
  created_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_limit int := coalesce(p_limit, 100);
begin
  perform platform.ensure_platform_user();

  if v_limit not between 1 and 10000 then
    raise exception 'The limit must be between 1 and 10000'
      using errcode = '22023';
  end if;

  perform platform.log_platform_action(
    'select', 'platform.platform_action_logs', null, 'Read the platform action log',
    jsonb_build_object('limit', v_limit)
  );

  return query
  select l.id, l.platform_user_id, l.action_type, l.target_table, l.target_id,
         l.summary, l.metadata, l.created_at
  from platform.platform_action_logs as l
  order by l.created_at desc, l.id
  limit v_limit;
end;
$$;

revoke all on function platform.get_platform_action_log(int) from public, anon, authenticated;
grant execute on function platform.get_platform_action_log(int) to app_admin;

-- platform.log_platform_event: records a system event (p_message becomes its summary,
-- p_metadata its details). Platform super_admins and the service role.
-- Raises 42501 for other identities, 22023 when p_event_type is empty.
create or replace function platform.log_platform_event(
  p_event_type text,
  p_message text,
  p_metadata jsonb
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  perform platform.ensure_platform_admin();

  if coalesce(btrim(p_event_type), '') = '' then
    raise exception 'An event type is required'
      using errcode = '22023';
  end if;

  insert into platform.platform_system_events (event_type, summary, details)
  values (p_event_type, p_message, p_metadata)
  returning platform_system_events.id into v_id;

  perform platform.log_platform_action(
    'log', 'platform.platform_system_events', v_id, 'Logged a system event',
    jsonb_build_object('event_type', p_event_type)
  );
end;
$$;

revoke all on function platform.log_platform_event(text, text, jsonb) from public, anon, authenticated;
grant execute on function platform.log_platform_event(text, text, jsonb) to app_admin;

-- ---------------------------------------------------------------------------------------------
-- Platform users
-- ---------------------------------------------------------------------------------------------

-- platform.resolve_platform_user: the platform_users.id a caller means by p_user_id, which may
-- be the platform user's own id (upstream's meaning, used by its tests) or the user id it
-- belongs to; soft-deleted rows are ignored. Internal (owner only).
-- Raises 22023 for a null id, P0002 when no live platform user matches.
create or replace function platform.resolve_platform_user(p_user_id uuid)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  if p_user_id is null then
    raise exception 'A platform user id is required'
      using errcode = '22023';
  end if;

  select pu.id into v_id
  from platform.platform_users as pu
  where (pu.id = p_user_id or pu.user_id = p_user_id)
    and not pu.is_deleted;

  if v_id is null then
    raise exception 'Platform user not found'
      using errcode = 'P0002';
  end if;
  return v_id;
end;
$$;

revoke all on function platform.resolve_platform_user(uuid) from public, anon, authenticated;

-- platform.create_platform_user: makes a known user (a core.users_meta row) a platform user
-- with the given platform role and returns the platform user's id; a soft-deleted platform
-- user of the same user is revived. Platform super_admins and the service role.
-- Raises 42501 for other identities, 22023 for a missing argument, P0002 for an unknown user
-- or role, 23505 when the user or the email is already a live platform user.
create or replace function platform.create_platform_user(
  p_user_id uuid,
  p_email text,
  p_role_id uuid
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_actor uuid := core.get_current_user_id();
  v_email text := btrim(p_email);
  v_id uuid;
begin
  perform platform.ensure_platform_admin();

  if p_user_id is null or p_role_id is null or coalesce(v_email, '') = '' then
    raise exception 'A user id, an email and a role id are required'
      using errcode = '22023';
  end if;
  if not exists (select 1 from core.users_meta as um where um.id = p_user_id) then
    raise exception 'User not found'
      using errcode = 'P0002';
  end if;
  if not exists (
    select 1 from platform.platform_roles as pr where pr.id = p_role_id and not pr.is_deleted
  ) then
    raise exception 'Platform role not found'
      using errcode = 'P0002';
  end if;
  if exists (
    select 1 from platform.platform_users as pu
    where (pu.user_id = p_user_id or lower(pu.email) = lower(v_email))
      and not pu.is_deleted
  ) then
    raise exception 'This user or email is already a platform user'
      using errcode = '23505';
  end if;

  -- user_id and email are unique over all rows: revive the user's soft-deleted row if any.
  update platform.platform_users as pu
  set email = v_email,
      role_id = p_role_id,
      is_deleted = false,
      deleted_at = null,
      deleted_by = null,
      updated_by = v_actor
  where pu.user_id = p_user_id
  returning pu.id into v_id;

  if v_id is null then
    insert into platform.platform_users (user_id, email, role_id, created_by, updated_by)
    values (p_user_id, v_email, p_role_id, v_actor, v_actor)
    returning platform_users.id into v_id;
  end if;

  perform platform.log_platform_action(
    'create', 'platform.platform_users', v_id, 'Created a platform user',
    jsonb_build_object('user_id', p_user_id, 'role_id', p_role_id)
  );
  return v_id;
end;
$$;

revoke all on function platform.create_platform_user(uuid, text, uuid) from public, anon, authenticated;
grant execute on function platform.create_platform_user(uuid, text, uuid) to app_admin;

-- platform.create_platform_user (by role name): as above, with the platform role given by name
-- and the email taken from the user's core.users_meta row. Platform super_admins and the
-- service role. Raises as above, and 22023 when the user has no email.
create or replace function platform.create_platform_user(p_user_id uuid, p_role text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_role_id uuid;
  v_email text;
begin
  perform platform.ensure_platform_admin();

  select pr.id into v_role_id
  from platform.platform_roles as pr
  where pr.name = p_role
    and not pr.is_deleted;
  if v_role_id is null then
    raise exception 'Platform role not found'
      using errcode = 'P0002';
  end if;

  select um.email into v_email
  from core.users_meta as um
  where um.id = p_user_id;
  if not found then
    raise exception 'User not found'
      using errcode = 'P0002';
  end if;
  if coalesce(btrim(v_email), '') = '' then
    raise exception 'The user has no email address'
      using errcode = '22023';
  end if;

  return platform.create_platform_user(p_user_id, v_email, v_role_id);
end;
$$;

revoke all on function platform.create_platform_user(uuid, text) from public, anon, authenticated;
grant execute on function platform.create_platform_user(uuid, text) to app_admin;

-- platform.update_platform_user: gives a live platform user another platform role.
-- p_user_id is the platform user's id (as upstream) or its user id.
-- Platform super_admins and the service role.
-- Raises 42501 for other identities, P0002 for an unknown platform user or role.
create or replace function platform.update_platform_user(p_user_id uuid, p_role_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
  v_old_role text;
  v_new_role text;
begin
  perform platform.ensure_platform_admin();
  v_id := platform.resolve_platform_user(p_user_id);

  select pr.name into v_new_role
  from platform.platform_roles as pr
  where pr.id = p_role_id
    and not pr.is_deleted;
  if v_new_role is null then
    raise exception 'Platform role not found'
      using errcode = 'P0002';
  end if;

  select pr.name into v_old_role
  from platform.platform_users as pu
  join platform.platform_roles as pr on pr.id = pu.role_id
  where pu.id = v_id;

  update platform.platform_users as pu
  set role_id = p_role_id,
      updated_by = core.get_current_user_id()
  where pu.id = v_id;

  perform platform.log_platform_action(
    'update', 'platform.platform_users', v_id, 'Changed a platform user''s role',
    jsonb_build_object('old_role', v_old_role, 'new_role', v_new_role)
  );
end;
$$;

revoke all on function platform.update_platform_user(uuid, uuid) from public, anon, authenticated;
grant execute on function platform.update_platform_user(uuid, uuid) to app_admin;

-- platform.update_platform_user_role: as update_platform_user, with the role given by name.
-- Platform super_admins and the service role.
-- Raises 42501 for other identities, P0002 for an unknown platform user or role.
create or replace function platform.update_platform_user_role(p_user_id uuid, p_role text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_role_id uuid;
begin
  perform platform.ensure_platform_admin();

  select pr.id into v_role_id
  from platform.platform_roles as pr
  where pr.name = p_role
    and not pr.is_deleted;
  if v_role_id is null then
    raise exception 'Platform role not found'
      using errcode = 'P0002';
  end if;

  perform platform.update_platform_user(p_user_id, v_role_id);
end;
$$;

revoke all on function platform.update_platform_user_role(uuid, text) from public, anon, authenticated;
grant execute on function platform.update_platform_user_role(uuid, text) to app_admin;

-- platform.delete_platform_user: soft-deletes a live platform user (p_user_id: the platform
-- user's id, as upstream, or its user id). Platform super_admins and the service role.
-- Raises 42501 for other identities, P0002 for an unknown platform user.
create or replace function platform.delete_platform_user(p_user_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_actor uuid := core.get_current_user_id();
  v_id uuid;
begin
  perform platform.ensure_platform_admin();
  v_id := platform.resolve_platform_user(p_user_id);

  update platform.platform_users as pu
  set is_deleted = true,
      deleted_at = now(),
      deleted_by = v_actor,
      updated_by = v_actor
  where pu.id = v_id;

  perform platform.log_platform_action(
    'delete', 'platform.platform_users', v_id, 'Deleted a platform user', null
  );
end;
$$;

revoke all on function platform.delete_platform_user(uuid) from public, anon, authenticated;
grant execute on function platform.delete_platform_user(uuid) to app_admin;

-- ---------------------------------------------------------------------------------------------
-- Settings
-- ---------------------------------------------------------------------------------------------

-- platform.get_setting: a live setting's JSON value as text (null when there is none).
-- Platform users and the service role. Raises 42501 for other identities.
create or replace function platform.get_setting(p_key text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform platform.ensure_platform_user();

  return (
    select s.value::text
    from platform.platform_settings as s
    where s.key = p_key
      and not s.is_deleted
  );
end;
$$;

revoke all on function platform.get_setting(text) from public, anon, authenticated;
grant execute on function platform.get_setting(text) to app_admin;

-- platform.list_settings: every live setting, by key. Platform users and the service role.
-- Raises 42501 for other identities.
create or replace function platform.list_settings()
returns table (
  key text,
  value jsonb,
  description text,
  created_at timestamptz,
  updated_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform platform.ensure_platform_user();

  return query
  select s.key, s.value, s.description, s.created_at, s.updated_at
  from platform.platform_settings as s
  where not s.is_deleted
  order by s.key;
end;
$$;

revoke all on function platform.list_settings() from public, anon, authenticated;
grant execute on function platform.list_settings() to app_admin;

-- platform.set_setting: creates or replaces a setting (a soft-deleted key comes back to life;
-- a null description keeps the current one). Platform super_admins and the service role.
-- Raises 42501 for other identities, 22023 for an empty key or a null value.
create or replace function platform.set_setting(
  p_key text,
  p_value jsonb,
  p_description text default null
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_actor uuid := core.get_current_user_id();
  v_created boolean;
begin
  perform platform.ensure_platform_admin();

  if coalesce(btrim(p_key), '') = '' or p_value is null then
    raise exception 'A setting needs a key and a value'
      using errcode = '22023';
  end if;

  insert into platform.platform_settings as s (key, value, description, created_by, updated_by)
  values (p_key, p_value, p_description, v_actor, v_actor)
  on conflict (key) do update
  set value = excluded.value,
      description = coalesce(excluded.description,
                             case when not s.is_deleted then s.description end),
      is_deleted = false,
      deleted_at = null,
      deleted_by = null,
      updated_by = v_actor
  -- xmax is 0 only for a freshly inserted row: tells a creation from an update.
  returning (s.xmax = 0) into v_created;

  perform platform.log_platform_action(
    case when v_created then 'create' else 'update' end,
    'platform.platform_settings', null, 'Set a platform setting',
    jsonb_build_object('key', p_key)
  );
end;
$$;

revoke all on function platform.set_setting(text, jsonb, text) from public, anon, authenticated;
grant execute on function platform.set_setting(text, jsonb, text) to app_admin;

-- platform.delete_setting: soft-deletes a live setting. Platform super_admins and the service
-- role. Raises 42501 for other identities, P0002 when the key has no live setting.
create or replace function platform.delete_setting(p_key text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_actor uuid := core.get_current_user_id();
begin
  perform platform.ensure_platform_admin();

  update platform.platform_settings as s
  set is_deleted = true,
      deleted_at = now(),
      deleted_by = v_actor,
      updated_by = v_actor
  where s.key = p_key
    and not s.is_deleted;

  if not found then
    raise exception 'Setting not found'
      using errcode = 'P0002';
  end if;

  perform platform.log_platform_action(
    'delete', 'platform.platform_settings', null, 'Deleted a platform setting',
    jsonb_build_object('key', p_key)
  );
end;
$$;

revoke all on function platform.delete_setting(text) from public, anon, authenticated;
grant execute on function platform.delete_setting(text) to app_admin;

-- ---------------------------------------------------------------------------------------------
-- Platform organizations
-- ---------------------------------------------------------------------------------------------

-- platform.create_platform_organization: registers an existing core organization in the
-- platform layer (its label is the organization's name). Organizations get this row
-- automatically when created (0004), so calling it again only refreshes the label.
-- Platform super_admins and the service role.
-- Raises 42501 for other identities, P0002 for an unknown organization.
create or replace function platform.create_platform_organization(p_organization_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_actor uuid := core.get_current_user_id();
  v_name text;
begin
  perform platform.ensure_platform_admin();

  select o.name into v_name
  from core.organizations as o
  where o.id = p_organization_id;
  if not found then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  insert into platform.platform_organizations as po (id, label, created_by, updated_by)
  values (p_organization_id, v_name, v_actor, v_actor)
  on conflict (id) do update
  set label = excluded.label,
      updated_by = v_actor;

  perform platform.log_platform_action(
    'create', 'platform.platform_organizations', p_organization_id,
    'Registered a platform organization', null
  );
end;
$$;

revoke all on function platform.create_platform_organization(uuid) from public, anon, authenticated;
grant execute on function platform.create_platform_organization(uuid) to app_admin;

-- ---------------------------------------------------------------------------------------------
-- Subscription overrides
-- ---------------------------------------------------------------------------------------------

-- platform.set_platform_override: sets one feature key of an organization's subscription
-- override (one override row per organization, created on first use). The row's
-- plan_override and reason columns are required by the table: a row created here starts with
-- an empty plan_override (meaning "no plan override, features only") and the optional
-- p_reason (default: which key was overridden); an existing row keeps its plan and, unless
-- p_reason is given, its reason. Platform super_admins and the service role.
-- Raises 42501 for other identities, 22023 for an empty key or a null value, P0002 when the
-- organization is not a platform organization.
create or replace function platform.set_platform_override(
  p_organization_id uuid,
  p_key text,
  p_value jsonb,
  p_reason text default null
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_actor uuid := core.get_current_user_id();
  v_id uuid;
begin
  perform platform.ensure_platform_admin();

  if coalesce(btrim(p_key), '') = '' or p_value is null then
    raise exception 'An override needs a key and a value'
      using errcode = '22023';
  end if;
  if not exists (
    select 1 from platform.platform_organizations as po where po.id = p_organization_id
  ) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  -- One override row per organization: serialize writers of this organization's row.
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('platform.platform_subscription_overrides:' || p_organization_id, 0)
  );

  update platform.platform_subscription_overrides as o
  set features = coalesce(o.features, '{}'::jsonb) || jsonb_build_object(p_key, p_value),
      reason = coalesce(p_reason, o.reason),
      updated_by = v_actor
  where o.organization_id = p_organization_id
    and not o.is_deleted
  returning o.id into v_id;

  if v_id is null then
    insert into platform.platform_subscription_overrides (
      organization_id, plan_override, features, reason, created_by, updated_by
    )
    values (
      p_organization_id, '', jsonb_build_object(p_key, p_value),
      coalesce(p_reason, format('Override of %s', p_key)), v_actor, v_actor
    )
    returning platform_subscription_overrides.id into v_id;
  end if;

  perform platform.log_platform_action(
    'override', 'platform.platform_subscription_overrides', v_id, 'Set a subscription override',
    jsonb_build_object('organization_id', p_organization_id, 'key', p_key)
  );
end;
$$;

revoke all on function platform.set_platform_override(uuid, text, jsonb, text) from public, anon, authenticated;
grant execute on function platform.set_platform_override(uuid, text, jsonb, text) to app_admin;

-- platform.delete_platform_override: removes one feature key from an organization's
-- subscription override. Platform super_admins and the service role.
-- Raises 42501 for other identities, P0002 when the organization has no override for that key.
create or replace function platform.delete_platform_override(p_organization_id uuid, p_key text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_id uuid;
begin
  perform platform.ensure_platform_admin();

  update platform.platform_subscription_overrides as o
  set features = o.features - p_key,
      updated_by = core.get_current_user_id()
  where o.organization_id = p_organization_id
    and not o.is_deleted
    and o.features ? p_key
  returning o.id into v_id;

  if v_id is null then
    raise exception 'Override not found'
      using errcode = 'P0002';
  end if;

  perform platform.log_platform_action(
    'override', 'platform.platform_subscription_overrides', v_id,
    'Removed a subscription override',
    jsonb_build_object('organization_id', p_organization_id, 'key', p_key)
  );
end;
$$;

revoke all on function platform.delete_platform_override(uuid, text) from public, anon, authenticated;
grant execute on function platform.delete_platform_override(uuid, text) to app_admin;

-- ---------------------------------------------------------------------------------------------
-- Feature flags
-- ---------------------------------------------------------------------------------------------

-- platform.create_platform_feature_flag: creates a global (p_organization_id null) or
-- per-organization feature flag and returns its id. Platform super_admins and the service
-- role. Raises 42501 for other identities, 22023 for an empty key or a null value, P0002 when
-- the organization is not a platform organization, 23505 when a live flag with that key
-- already exists at that scope.
create or replace function platform.create_platform_feature_flag(
  p_key text,
  p_value jsonb,
  p_organization_id uuid default null,
  p_description text default null
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_actor uuid := core.get_current_user_id();
  v_id uuid;
begin
  perform platform.ensure_platform_admin();

  if coalesce(btrim(p_key), '') = '' or p_value is null then
    raise exception 'A feature flag needs a key and a value'
      using errcode = '22023';
  end if;
  if p_organization_id is not null and not exists (
    select 1 from platform.platform_organizations as po where po.id = p_organization_id
  ) then
    raise exception 'Organization not found'
      using errcode = 'P0002';
  end if;

  -- The table has no unique key on (key, organization): serialize creators of one key.
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('platform.platform_feature_flags:' || p_key, 0)
  );
  if exists (
    select 1 from platform.platform_feature_flags as ff
    where ff.key = p_key
      and ff.organization_id is not distinct from p_organization_id
      and not ff.is_deleted
  ) then
    raise exception 'A feature flag with this key already exists'
      using errcode = '23505';
  end if;

  insert into platform.platform_feature_flags (
    key, value, organization_id, description, created_by, updated_by
  )
  values (p_key, p_value, p_organization_id, p_description, v_actor, v_actor)
  returning platform_feature_flags.id into v_id;

  perform platform.log_platform_action(
    'create', 'platform.platform_feature_flags', v_id, 'Created a feature flag',
    jsonb_build_object('key', p_key, 'organization_id', p_organization_id)
  );
  return v_id;
end;
$$;

revoke all on function platform.create_platform_feature_flag(text, jsonb, uuid, text) from public, anon, authenticated;
grant execute on function platform.create_platform_feature_flag(text, jsonb, uuid, text) to app_admin;

-- platform.get_feature_flag: the live flag with this key, global (p_organization_id null) or
-- of that organization exactly (no fallback to the global flag); active or not.
-- Platform users and the service role. Raises 42501 for other identities.
create or replace function platform.get_feature_flag(
  p_key text,
  p_organization_id uuid default null
)
returns table (
  id uuid,
  key text,
  value jsonb,
  organization_id uuid,
  description text,
  is_active boolean
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform platform.ensure_platform_user();

  return query
  select ff.id, ff.key, ff.value, ff.organization_id, ff.description, ff.is_active
  from platform.platform_feature_flags as ff
  where ff.key = p_key
    and ff.organization_id is not distinct from p_organization_id
    and not ff.is_deleted;
end;
$$;

revoke all on function platform.get_feature_flag(text, uuid) from public, anon, authenticated;
grant execute on function platform.get_feature_flag(text, uuid) to app_admin;

-- platform.list_feature_flags: live flags by key. Without p_organization_id: every flag;
-- with it: that organization's flags, plus the global ones when p_include_global.
-- Platform users and the service role. Raises 42501 for other identities.
create or replace function platform.list_feature_flags(
  p_organization_id uuid default null,
  p_include_global boolean default false
)
returns table (
  id uuid,
  key text,
  value jsonb,
  organization_id uuid,
  description text,
  is_active boolean,
  created_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform platform.ensure_platform_user();

  return query
  select ff.id, ff.key, ff.value, ff.organization_id, ff.description, ff.is_active, ff.created_at
  from platform.platform_feature_flags as ff
  where not ff.is_deleted
    and (
      p_organization_id is null
      or ff.organization_id = p_organization_id
      or (coalesce(p_include_global, false) and ff.organization_id is null)
    )
  order by ff.key, ff.organization_id nulls first;
end;
$$;

revoke all on function platform.list_feature_flags(uuid, boolean) from public, anon, authenticated;
grant execute on function platform.list_feature_flags(uuid, boolean) to app_admin;

-- platform.update_feature_flag: changes a live flag's value, activity and/or description
-- (null arguments keep the current value). Platform super_admins and the service role.
-- Raises 42501 for other identities, P0002 for an unknown flag.
create or replace function platform.update_feature_flag(
  p_id uuid,
  p_value jsonb default null,
  p_is_active boolean default null,
  p_description text default null
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform platform.ensure_platform_admin();

  update platform.platform_feature_flags as ff
  set value = coalesce(p_value, ff.value),
      is_active = coalesce(p_is_active, ff.is_active),
      description = coalesce(p_description, ff.description),
      updated_by = core.get_current_user_id()
  where ff.id = p_id
    and not ff.is_deleted;

  if not found then
    raise exception 'Feature flag not found'
      using errcode = 'P0002';
  end if;

  perform platform.log_platform_action(
    'update', 'platform.platform_feature_flags', p_id, 'Updated a feature flag',
    jsonb_build_object('value', p_value, 'is_active', p_is_active)
  );
end;
$$;

revoke all on function platform.update_feature_flag(uuid, jsonb, boolean, text) from public, anon, authenticated;
grant execute on function platform.update_feature_flag(uuid, jsonb, boolean, text) to app_admin;

-- platform.delete_feature_flag: soft-deletes a live flag. Platform super_admins and the
-- service role. Raises 42501 for other identities, P0002 for an unknown flag.
create or replace function platform.delete_feature_flag(p_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_actor uuid := core.get_current_user_id();
  v_key text;
begin
  perform platform.ensure_platform_admin();

  update platform.platform_feature_flags as ff
  set is_deleted = true,
      deleted_at = now(),
      deleted_by = v_actor,
      updated_by = v_actor
  where ff.id = p_id
    and not ff.is_deleted
  returning ff.key into v_key;

  if not found then
    raise exception 'Feature flag not found'
      using errcode = 'P0002';
  end if;

  perform platform.log_platform_action(
    'delete', 'platform.platform_feature_flags', p_id, 'Deleted a feature flag',
    jsonb_build_object('key', v_key)
  );
end;
$$;

revoke all on function platform.delete_feature_flag(uuid) from public, anon, authenticated;
grant execute on function platform.delete_feature_flag(uuid) to app_admin;
