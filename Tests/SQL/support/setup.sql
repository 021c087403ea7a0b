-- Test support for the SMTA pgTAP suite.
--
-- Run once per test database, as the superuser, after the schema (core migrations and one
-- adapter's SQL) and before support/identity_<adapter>.sql:
--   psql -v ON_ERROR_STOP=1 -1 -f Tests/SQL/support/setup.sql
--
-- It installs pgTAP (schema tap) and dblink (schema extensions), puts tap on the database's
-- search_path so test files call pgTAP unqualified (new sessions only: pg_prove opens its own),
-- and creates schema tests with fixture builders and inspectors. Builders and inspectors are
-- SECURITY DEFINER so they bypass RLS the way a migration or an operator would; they exist only
-- in throwaway test databases. Nothing here lives in public: the suite asserts public holds
-- only the schema's own functions.

create schema if not exists tap;
create extension if not exists pgtap with schema tap;
grant usage on schema tap to public;

create extension if not exists dblink with schema extensions;

do $$
begin
  execute format('alter database %I set search_path = "$user", public, tap', current_database());
end
$$;

create schema if not exists tests;
-- Test files switch to authenticated, anon and service_role and still call the helpers.
grant usage on schema tests to public;

-- ---------------------------------------------------------------------------------------------
-- Fixture builders
-- ---------------------------------------------------------------------------------------------

-- Creates a user (its core.users_meta row) and returns its id. Any caller; test databases only.
create function tests.create_user(
  p_email text,
  p_first_name text default null,
  p_last_name text default null,
  p_id uuid default null
) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_id uuid := coalesce(p_id, pg_catalog.gen_random_uuid());
begin
  insert into core.users_meta (id, email, first_name, last_name)
  values (v_id, p_email, p_first_name, p_last_name);
  return v_id;
end
$$;

-- Returns the id of the global role with that name; raises when it does not exist.
create function tests.role_id(p_name text) returns uuid
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_id uuid;
begin
  select r.id into v_id from core.roles r where r.name = p_name;
  if v_id is null then
    raise exception 'fixture: role % does not exist', p_name;
  end if;
  return v_id;
end
$$;

-- Creates an organization whose creator is p_owner, the way the API would: the schema's
-- trigger must give the creator the live super_admin membership, and the fixture refuses to
-- continue when it did not (every test of that org would be meaningless).
create function tests.create_org(p_owner uuid, p_name text, p_id uuid default null) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_id uuid := coalesce(p_id, pg_catalog.gen_random_uuid());
begin
  insert into core.organizations (id, name, description, created_by, updated_by)
  values (v_id, p_name, p_name || ' (test organization)', p_owner, p_owner);
  if not exists (
    select 1 from core.memberships m
    where m.organization_id = v_id and m.user_id = p_owner
      and m.is_super_admin and not m.is_deleted
  ) then
    raise exception 'fixture: creating organization % gave its creator no super_admin membership', p_name;
  end if;
  return v_id;
end
$$;

-- Adds p_user to p_org with a built-in role (never super_admin: only the trigger and
-- transfer_super_admin make owners) and returns the membership id.
create function tests.add_member(p_org uuid, p_user uuid, p_role text default 'team') returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into core.memberships (user_id, organization_id, role_id, is_super_admin, created_by, updated_by)
  values (p_user, p_org, tests.role_id(p_role), false, p_user, p_user)
  returning id into v_id;
  return v_id;
end
$$;

-- Creates a unit (optionally nested under p_parent) and returns its id.
create function tests.create_unit(
  p_org uuid,
  p_name text,
  p_parent uuid default null,
  p_id uuid default null
) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_id uuid := coalesce(p_id, pg_catalog.gen_random_uuid());
begin
  insert into core.units (id, organization_id, name, description, parent_unit_id)
  values (v_id, p_org, p_name, p_name || ' (test unit)', p_parent);
  return v_id;
end
$$;

-- Adds p_user to p_unit with a built-in role and returns the unit membership id.
create function tests.add_unit_member(p_unit uuid, p_user uuid, p_role text default 'team') returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into core.unit_memberships (user_id, unit_id, role_id, created_by, updated_by)
  values (p_user, p_unit, tests.role_id(p_role), p_user, p_user)
  returning id into v_id;
  return v_id;
end
$$;

-- Creates a file row for p_org and returns its id.
create function tests.create_file(
  p_org uuid,
  p_url text default 'https://files.example.test/menu.pdf',
  p_type text default 'application/pdf'
) returns uuid
language plpgsql security definer set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into core.organization_files (file_url, file_type, file_size, organization_id)
  values (p_url, p_type, 1024, p_org)
  returning id into v_id;
  return v_id;
end
$$;

-- Sets a user's email in core.users_meta (the Payload adapter's path for the email).
create function tests.set_user_email(p_user uuid, p_email text) returns void
language plpgsql security definer set search_path = ''
as $$
begin
  update core.users_meta set email = p_email where id = p_user;
  if not found then
    insert into core.users_meta (id, email) values (p_user, p_email);
  end if;
end
$$;

-- Returns a user's email from core.users_meta (what a Supabase JWT would carry).
create function tests.user_email(p_user uuid) returns text
language sql stable security definer set search_path = ''
as $$
  select um.email from core.users_meta um where um.id = p_user
$$;

-- ---------------------------------------------------------------------------------------------
-- The standard world, shared by most files. Ids are kept in transaction-local settings
-- tests.<key>, read back with tests.id('<key>'), so they survive role switches.
--
--   org_a  owner_a (super_admin), manager_a (manager), team_a (team), member_a (team),
--          loner_a (team, in no unit)
--          unit_a1: owner_a, manager_a (manager), team_a, member_a (team); unit_a2: nobody
--          file_a
--   org_b  the same shape with _b names; unit_b1; file_b
--   stranger: a user in no organization
-- ---------------------------------------------------------------------------------------------

-- Returns the id stored under p_key by tests.world() or tests.remember().
create function tests.id(p_key text) returns uuid
language sql stable
as $$
  select nullif(pg_catalog.current_setting('tests.' || p_key, true), '')::uuid
$$;

-- Stores an id under p_key for the rest of the transaction and returns it.
create function tests.remember(p_key text, p_id uuid) returns uuid
language sql
as $$
  select pg_catalog.set_config('tests.' || p_key, p_id::text, true)::uuid
$$;

-- Builds the standard world (see above). Call as the superuser, inside the test transaction.
create function tests.world() returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_side text;
  v_org uuid;
  v_unit uuid;
begin
  foreach v_side in array array['a', 'b'] loop
    perform tests.remember('owner_' || v_side,
      tests.create_user('owner.' || v_side || '@smta.test', 'Owner', upper(v_side)));
    perform tests.remember('manager_' || v_side,
      tests.create_user('manager.' || v_side || '@smta.test', 'Manager', upper(v_side)));
    perform tests.remember('team_' || v_side,
      tests.create_user('team.' || v_side || '@smta.test', 'Team', upper(v_side)));
    perform tests.remember('member_' || v_side,
      tests.create_user('member.' || v_side || '@smta.test', 'Member', upper(v_side)));
    perform tests.remember('loner_' || v_side,
      tests.create_user('loner.' || v_side || '@smta.test', 'Loner', upper(v_side)));

    v_org := tests.remember('org_' || v_side,
      tests.create_org(tests.id('owner_' || v_side), 'Org ' || upper(v_side)));
    perform tests.add_member(v_org, tests.id('manager_' || v_side), 'manager');
    perform tests.add_member(v_org, tests.id('team_' || v_side), 'team');
    perform tests.add_member(v_org, tests.id('member_' || v_side), 'team');
    perform tests.add_member(v_org, tests.id('loner_' || v_side), 'team');

    v_unit := tests.remember('unit_' || v_side || '1', tests.create_unit(v_org, 'Unit ' || upper(v_side) || '1'));
    perform tests.add_unit_member(v_unit, tests.id('owner_' || v_side), 'manager');
    perform tests.add_unit_member(v_unit, tests.id('manager_' || v_side), 'manager');
    perform tests.add_unit_member(v_unit, tests.id('team_' || v_side), 'team');
    perform tests.add_unit_member(v_unit, tests.id('member_' || v_side), 'team');
    perform tests.remember('unit_' || v_side || '2', tests.create_unit(v_org, 'Unit ' || upper(v_side) || '2'));

    perform tests.remember('file_' || v_side, tests.create_file(v_org));
  end loop;
  perform tests.remember('stranger', tests.create_user('stranger@smta.test', 'Stranger', 'Nobody'));
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Inspectors: read rows past RLS, to assert what changed and what did not.
-- ---------------------------------------------------------------------------------------------

-- Returns the row of p_table whose id is p_id as jsonb (null when there is none).
create function tests.row_json(p_table regclass, p_id uuid) returns jsonb
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_row jsonb;
begin
  execute format('select pg_catalog.to_jsonb(t) from %s t where t.id = $1', p_table)
    into v_row using p_id;
  return v_row;
end
$$;

-- Returns every row of p_table containing p_match (jsonb containment) as jsonb.
create function tests.rows(p_table regclass, p_match jsonb default '{}') returns setof jsonb
language plpgsql stable security definer set search_path = ''
as $$
begin
  return query execute format(
    'select pg_catalog.to_jsonb(t) from %s t where pg_catalog.to_jsonb(t) operator(pg_catalog.@>) $1',
    p_table) using p_match;
end
$$;

-- Counts the rows of p_table containing p_match.
create function tests.count_rows(p_table regclass, p_match jsonb default '{}') returns bigint
language sql stable security definer set search_path = ''
as $$
  select pg_catalog.count(*) from tests.rows(p_table, p_match)
$$;

-- 'live', 'deleted' or 'none' for the membership of p_user in p_org.
create function tests.membership_state(p_org uuid, p_user uuid) returns text
language sql stable security definer set search_path = ''
as $$
  select case when count(*) = 0 then 'none' when bool_or(not m.is_deleted) then 'live' else 'deleted' end
  from core.memberships m where m.organization_id = p_org and m.user_id = p_user
$$;

-- Role name of the live membership of p_user in p_org (null when none).
create function tests.membership_role(p_org uuid, p_user uuid) returns text
language sql stable security definer set search_path = ''
as $$
  select r.name from core.memberships m join core.roles r on r.id = m.role_id
  where m.organization_id = p_org and m.user_id = p_user and not m.is_deleted
$$;

-- 'live', 'deleted' or 'none' for the unit membership of p_user in p_unit.
create function tests.unit_membership_state(p_unit uuid, p_user uuid) returns text
language sql stable security definer set search_path = ''
as $$
  select case when count(*) = 0 then 'none' when bool_or(not um.is_deleted) then 'live' else 'deleted' end
  from core.unit_memberships um where um.unit_id = p_unit and um.user_id = p_user
$$;

-- Role name of the live unit membership of p_user in p_unit (null when none).
create function tests.unit_membership_role(p_unit uuid, p_user uuid) returns text
language sql stable security definer set search_path = ''
as $$
  select r.name from core.unit_memberships um join core.roles r on r.id = um.role_id
  where um.unit_id = p_unit and um.user_id = p_user and not um.is_deleted
$$;

-- User ids of the live super_admin memberships of p_org.
create function tests.super_admins(p_org uuid) returns uuid[]
language sql stable security definer set search_path = ''
as $$
  select coalesce(array_agg(m.user_id order by m.user_id), '{}')
  from core.memberships m
  where m.organization_id = p_org and m.is_super_admin and not m.is_deleted
$$;

-- A fingerprint of every row of every core and platform table: equal fingerprints before and
-- after a statement mean the statement changed nothing.
create function tests.digest() returns text
language plpgsql stable security definer set search_path = ''
as $$
declare
  v_table regclass;
  v_part text;
  v_all text := '';
begin
  for v_table in
    select c.oid::regclass from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('core', 'platform') and c.relkind in ('r', 'p')
    order by 1::text
  loop
    execute format(
      'select coalesce(pg_catalog.string_agg(t::text, %L order by t::text), %L) from %s t',
      E'\n', '', v_table) into v_part;
    v_all := v_all || v_table::text || ':' || pg_catalog.md5(v_part) || ';';
  end loop;
  return pg_catalog.md5(v_all);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Running a statement and judging the outcome without keeping its effects.
-- ---------------------------------------------------------------------------------------------

-- Runs p_sql as the current role and identity, reports how it ended, then undoes it:
-- state = null when it succeeded (else the SQLSTATE), message = the error text, result = the
-- first column of its first row, changed = whether it changed any core/platform row.
create function tests.try_call(
  p_sql text,
  out state text,
  out message text,
  out result text,
  out changed boolean
)
language plpgsql
as $$
declare
  v_before text := tests.digest();
  v_after text;
begin
  changed := false;
  begin
    begin
      execute p_sql into result;
    exception
      -- An INSERT/UPDATE/DELETE without RETURNING returns no data: it ran and was rolled
      -- back with this error, so run it again without INTO (it must not count as refused).
      when sqlstate '42601' then
        if sqlerrm <> 'INTO used with a command that cannot return data' then
          raise;
        end if;
        execute p_sql;
    end;
    v_after := tests.digest();
    raise exception 'tests.try_call: undo' using errcode = 'TS000';
  exception
    when sqlstate 'TS000' then
      state := null;
      changed := v_after is distinct from v_before;
    when others then
      state := sqlstate;
      message := sqlerrm;
  end;
end
$$;

-- A statement calling p_function with harmless non-NULL sample arguments (a NULL argument
-- would let the planner skip a STRICT function without running, or checking, anything).
create function tests.sample_call(p_function regprocedure) returns text
language sql stable
as $$
  select format('select count(*) from %s.%I(%s)', n.nspname, p.proname,
    coalesce((select pg_catalog.string_agg(
                case pg_catalog.format_type(a.t, null)
                  when 'uuid' then '''00000000-0000-0000-0000-000000000000''::uuid'
                  when 'text' then '''sample'''
                  when 'integer' then '1'
                  when 'jsonb' then '''{}''::jsonb'
                  when 'boolean' then 'false'
                  when 'timestamp with time zone' then 'pg_catalog.now()'
                  else 'null::' || pg_catalog.format_type(a.t, null)
                end, ', ' order by a.i)
              from unnest(p.proargtypes) with ordinality a(t, i)), ''))
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
  where p.oid = p_function
$$;

-- pgTAP assertion: p_sql is refused with one of p_states and changes nothing.
create function tests.refused(
  p_sql text,
  p_description text,
  p_states text[] default '{42501,P0002}'
) returns text
language plpgsql
as $$
declare
  r record;
begin
  r := tests.try_call(p_sql);
  if r.state = any (p_states) then
    return ok(true, p_description);
  end if;
  return ok(false, p_description) || E'\n' || diag(
    case when r.state is null
      then format('    succeeded (changed rows: %s), expected SQLSTATE %s', r.changed, p_states)
      else format('    failed with %s: %s, expected SQLSTATE %s', r.state, r.message, p_states)
    end);
end
$$;

-- pgTAP assertion: p_sql succeeds (its effects are undone afterwards).
create function tests.allowed(p_sql text, p_description text) returns text
language plpgsql
as $$
declare
  r record;
begin
  r := tests.try_call(p_sql);
  if r.state is null then
    return ok(true, p_description);
  end if;
  return ok(false, p_description) || E'\n' || diag(format('    failed with %s: %s', r.state, r.message));
end
$$;

-- pgTAP assertion: p_sql either is refused (42501/P0002) or returns nothing: p_sql must yield
-- one number, the count of rows the caller got to see.
create function tests.sees_nothing(p_sql text, p_description text) returns text
language plpgsql
as $$
declare
  r record;
begin
  r := tests.try_call(p_sql);
  if r.state in ('42501', 'P0002') or (r.state is null and r.result::bigint = 0 and not r.changed) then
    return ok(true, p_description);
  end if;
  return ok(false, p_description) || E'\n' || diag(
    case when r.state is null
      then format('    returned %s row(s)', r.result)
      else format('    failed with %s: %s', r.state, r.message)
    end);
end
$$;

-- pgTAP assertion: p_sql changes no core/platform row, whether it is refused (any error) or
-- silently matches nothing (an UPDATE filtered out by RLS).
create function tests.no_change(p_sql text, p_description text) returns text
language plpgsql
as $$
declare
  r record;
begin
  r := tests.try_call(p_sql);
  if r.state is not null or not r.changed then
    return ok(true, p_description);
  end if;
  return ok(false, p_description) || E'\n' || diag('    succeeded and changed rows');
end
$$;

-- pgTAP assertion: p_sql (yielding one number of rows) succeeds and returns at least one row.
create function tests.sees_something(p_sql text, p_description text) returns text
language plpgsql
as $$
declare
  r record;
begin
  r := tests.try_call(p_sql);
  if r.state is null and r.result::bigint > 0 then
    return ok(true, p_description);
  end if;
  return ok(false, p_description) || E'\n' || diag(
    case when r.state is null
      then format('    returned %s row(s)', r.result)
      else format('    failed with %s: %s', r.state, r.message)
    end);
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Concurrency files: sessions of their own through dblink, to the same database.
-- ---------------------------------------------------------------------------------------------

-- Opens the dblink connection p_name to this database as the superuser (trust auth locally).
create function tests.dblink_open(p_name text) returns void
language sql
as $$
  select extensions.dblink_connect(p_name, format('dbname=%s host=127.0.0.1 port=%s user=postgres',
                                                  pg_catalog.current_database(), pg_catalog.current_setting('port')))
$$;

-- Runs "perform <p_expressions>" on the dblink connection p_name (dblink_exec accepts no
-- statement that returns rows).
create function tests.dblink_perform(p_name text, p_expressions text) returns void
language sql
as $$
  select extensions.dblink_exec(p_name, 'do $perform$ begin perform ' || p_expressions || '; end $perform$')
$$;

-- Waits (at most 30 s) for the statement sent on p_name with dblink_send_query to finish and
-- returns 'ok', or the error it raised. The statement must return one column.
create function tests.dblink_outcome(p_name text) returns text
language plpgsql
as $$
declare
  v_deadline timestamptz := pg_catalog.clock_timestamp() + interval '30 seconds';
  v_message text;
begin
  while extensions.dblink_is_busy(p_name) = 1 loop
    if pg_catalog.clock_timestamp() > v_deadline then
      raise exception 'tests.dblink_outcome: % did not finish within 30 seconds', p_name;
    end if;
    perform pg_catalog.pg_sleep(0.02);
  end loop;
  perform * from extensions.dblink_get_result(p_name, false) as r(x text);
  v_message := extensions.dblink_error_message(p_name);
  perform * from extensions.dblink_get_result(p_name, false) as r(x text);
  return case when v_message = 'OK' then 'ok' else v_message end;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Committed fixtures (concurrency files): remove everything an organization or user left.
-- Runs with triggers off (session_replication_role = replica) because the schema, rightly,
-- forbids deleting the super_admin membership and audit rows; the order respects the FKs.
-- ---------------------------------------------------------------------------------------------

-- Deletes every row belonging to the organizations p_orgs and to the users p_users.
create function tests.purge(p_orgs uuid[], p_users uuid[]) returns void
language plpgsql security definer set search_path = ''
as $$
declare
  v_units uuid[];
begin
  perform pg_catalog.set_config('session_replication_role', 'replica', true);
  select coalesce(array_agg(u.id), '{}') into v_units from core.units u where u.organization_id = any (p_orgs);
  delete from core.audit_logs a
    where a.organization_id = any (p_orgs) or a.actor_id = any (p_users)
       or a.target_id = any (p_orgs) or a.target_id = any (p_users) or a.target_id = any (v_units);
  delete from core.invitations i where i.organization_id = any (p_orgs);
  delete from core.invitation_links l where l.organization_id = any (p_orgs);
  delete from core.organization_domains d where d.organization_id = any (p_orgs);
  delete from core.scim_group_members g where g.organization_id = any (p_orgs);
  delete from core.scim_groups g where g.organization_id = any (p_orgs);
  delete from core.scim_users s where s.organization_id = any (p_orgs);
  delete from core.scim_tokens t where t.organization_id = any (p_orgs);
  delete from core.unit_memberships um where um.unit_id = any (v_units) or um.user_id = any (p_users);
  delete from core.unit_meta um where um.id = any (v_units);
  delete from core.units u where u.id = any (v_units);
  delete from core.memberships m where m.organization_id = any (p_orgs) or m.user_id = any (p_users);
  delete from core.organizations_meta om where om.id = any (p_orgs);
  delete from core.organization_files f where f.organization_id = any (p_orgs);
  delete from platform.tenant_secrets s where s.organization_id = any (p_orgs) or s.user_id = any (p_users);
  delete from platform.billing_subscriptions s where s.organization_id = any (p_orgs);
  delete from platform.billing_customers c where c.organization_id = any (p_orgs);
  delete from platform.platform_feature_flags f where f.organization_id = any (p_orgs);
  delete from platform.platform_subscription_overrides o where o.organization_id = any (p_orgs);
  delete from platform.platform_organizations po where po.id = any (p_orgs);
  delete from core.roles r where r.organization_id = any (p_orgs);
  delete from core.organizations o where o.id = any (p_orgs);
  delete from core.users_meta um where um.id = any (p_users);
  -- The Payload adapter's identity map, when that adapter is installed.
  if pg_catalog.to_regclass('core.identity_links') is not null then
    execute 'delete from core.identity_links l where l.user_id = any ($1)' using p_users;
  end if;
  perform pg_catalog.set_config('session_replication_role', 'origin', true);
end
$$;
