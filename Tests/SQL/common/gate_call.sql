-- core.gate_call: one statement that sets the caller's identity, switches role and runs the
-- bridge's statement. It must act exactly as the caller (privileges and RLS), accept only the
-- three API roles, keep every setting transaction-local, and be closed to the API roles.
begin;

select plan(12);

select tests.world();

-- A gated call as a user: claims carry the id for Supabase, app.current_user_id for Payload.
create temporary table call_results (label text primary key, value json);
grant all on call_results to public;

insert into call_results
select 'whoami', core.gate_call(
  'authenticated', tests.id('owner_a'),
  json_build_object('sub', tests.id('owner_a'), 'role', 'authenticated')::text, null, null, null, null, false, null,
  'select pg_catalog.json_build_object(''user'', core.get_current_user_id(), ''role'', current_user)', '{}');
reset role;

select is((select value->>'user' from call_results where label = 'whoami'), tests.id('owner_a')::text,
  'the statement sees the caller''s user id');
select is((select value->>'role' from call_results where label = 'whoami'), 'authenticated',
  'the statement runs as the caller''s role');

-- Row-level security applies to the statement: a member sees their organization, an outsider none.
insert into call_results
select 'member', core.gate_call(
  'authenticated', tests.id('owner_a'),
  json_build_object('sub', tests.id('owner_a'), 'role', 'authenticated')::text, null, null, null, null, false, null,
  'select pg_catalog.to_json(pg_catalog.array_agg(o.id)) from core.organizations o', '{}');
reset role;
insert into call_results
select 'outsider', core.gate_call(
  'authenticated', tests.id('stranger'),
  json_build_object('sub', tests.id('stranger'), 'role', 'authenticated')::text, null, null, null, null, false, null,
  'select pg_catalog.to_json(pg_catalog.count(*)) from core.organizations o', '{}');
reset role;

select is((select value::text from call_results where label = 'member'),
  json_build_array(tests.id('org_a'))::text, 'a member sees exactly their organization');
select is((select value::text from call_results where label = 'outsider'), '0',
  'an outsider sees no organization');

-- The arguments reach the statement as $1.
insert into call_results
select 'arguments', core.gate_call(
  'anon', null, '{"role":"anon"}', null, null, null, null, false, null,
  'select pg_catalog.to_json($1->>''p_name'')', '{"p_name":"Acme"}');
reset role;
select is((select value #>> '{}' from call_results where label = 'arguments'), 'Acme',
  'the JSON arguments are the statement''s $1');

-- Only the three API roles; anything else is refused before any setting changes.
select throws_ok(
  $$select core.gate_call('postgres', null, '{}', null, null, null, null, false, null, 'select null::json', '{}')$$,
  '22023', null, 'a role other than anon, authenticated or service_role is refused');
select is(current_user::text, session_user::text, 'a refused call leaves the role unchanged');

-- The settings are transaction-local: on one connection (dblink, outside this test's
-- transaction), a gated call as a user, then the next statement carries nothing of that user.
select tests.dblink_open('gate');
select is(
  (select r.v from extensions.dblink('gate',
     $q$select core.gate_call('authenticated', '00000000-0000-4000-8000-000000000001',
          '{"sub":"00000000-0000-4000-8000-000000000001","role":"authenticated"}', 'a-secret-key-value',
          null, null, null, false, null, 'select pg_catalog.to_json(current_user)', '{}') #>> '{}'$q$) as r(v text)),
  'authenticated', 'the gated statement ran as the caller');
select is(
  (select r.v from extensions.dblink('gate',
     $q$select coalesce(nullif(current_setting('app.secrets_key', true), ''), 'unset')
              || '/' || coalesce(nullif(current_setting('request.jwt.claims', true), ''), 'unset')
              || '/' || coalesce(nullif(current_setting('app.current_user_id', true), ''), 'unset')
              || '/' || current_user$q$) as r(v text)),
  'unset/unset/unset/postgres', 'the next statement on that connection carries nothing of the caller');
select extensions.dblink_disconnect('gate');

-- Closed to the API roles and to app_user.
select ok(not has_function_privilege('authenticated', 'core.gate_call(text, uuid, text, text, text, text, text, boolean, uuid, text, json)', 'execute'),
  'authenticated cannot execute core.gate_call');
select ok(not has_function_privilege('anon', 'core.gate_call(text, uuid, text, text, text, text, text, boolean, uuid, text, json)', 'execute'),
  'anon cannot execute core.gate_call');
select ok(not has_function_privilege('app_user', 'core.gate_call(text, uuid, text, text, text, text, text, boolean, uuid, text, json)', 'execute'),
  'app_user cannot execute core.gate_call');

select * from finish();
rollback;
