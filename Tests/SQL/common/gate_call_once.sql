-- core.gate_call_once: a gated call under an Idempotency-Key is applied at most once per caller
-- and key. The same request again is answered from the record and runs nothing; another request
-- under the key is refused and changes nothing; another caller's key is another key; a failed
-- call leaves no record; an expired record is forgotten; a concurrent copy waits and replays.
-- The record itself is closed to everyone but the functions.
begin;

select plan(24);

select tests.world();

create temporary table once_results (label text primary key, replayed boolean, result json);
grant all on once_results to public;

-- create_organization as owner_a under a key; p_statement as the bridge builds it.
create function pg_temp.create_as(p_user text, p_key text, p_hash text, p_name text)
returns table (replayed boolean, result json)
language sql
as $$
  select c.replayed, c.result
  from core.gate_call_once(p_key, p_hash, interval '1 hour',
    'authenticated', tests.id(p_user),
    json_build_object('sub', tests.id(p_user), 'role', 'authenticated')::text, null, null, null, null, false, null,
    'select pg_catalog.to_json(r) from public.create_organization(p_name => $1->>''p_name'') r',
    json_build_object('p_name', p_name)) c
$$;

insert into once_results select 'first', * from pg_temp.create_as('owner_a', 'key-1', 'hash-1', 'Once Inc');
reset role;
select is((select replayed from once_results where label = 'first'), false, 'the first call under a key runs');
select is(tests.count_rows('core.organizations', '{"name": "Once Inc"}')::int, 1,
  'the first call created its organization');
select is(current_user::text, session_user::text, 'the call leaves the login role in place');

-- The same request again: the recorded result, nothing run.
insert into once_results select 'again', * from pg_temp.create_as('owner_a', 'key-1', 'hash-1', 'Once Inc');
reset role;
select is((select replayed from once_results where label = 'again'), true, 'the same request is replayed');
select is((select result::text from once_results where label = 'again'),
          (select result::text from once_results where label = 'first'), 'with the first call''s result');
select is(tests.count_rows('core.organizations', '{"name": "Once Inc"}')::int, 1,
  'a replay creates nothing');

-- Another request under the same key: refused, nothing created.
select throws_ok(
  $$select * from pg_temp.create_as('owner_a', 'key-1', 'hash-2', 'Other Inc')$$,
  'PT422', 'This Idempotency-Key was already used for another request',
  'another request under a used key is refused');
reset role;
select is(tests.count_rows('core.organizations', '{"name": "Other Inc"}')::int, 0,
  'the refused request created nothing');

-- Another caller's key of the same value is another key: it runs, as that caller.
insert into once_results select 'other caller', * from pg_temp.create_as('stranger', 'key-1', 'hash-1', 'Stranger Inc');
reset role;
select is((select replayed from once_results where label = 'other caller'), false,
  'the same key from another caller runs');
select is((select result->>'name' from once_results where label = 'other caller'), 'Stranger Inc',
  'and answers with its own result, not the first caller''s');
select is(
  (select count(*)::int from platform.idempotent_calls where key = 'key-1'), 2,
  'one record per caller and key');

-- A call that fails records nothing: the key may be used again.
select throws_ok(
  $$select * from pg_temp.create_as('owner_a', 'key-fail', 'hash-f', null)$$,
  null, null, 'a failing call raises its own error');
reset role;
select is((select count(*)::int from platform.idempotent_calls where key = 'key-fail'), 0,
  'a failed call leaves no record');
insert into once_results select 'after failure', * from pg_temp.create_as('owner_a', 'key-fail', 'hash-g', 'Retry Inc');
reset role;
select is((select replayed from once_results where label = 'after failure'), false,
  'its key then runs another request');

-- An expired record is forgotten.
update platform.idempotent_calls set expires_at = now() - interval '1 second', created_at = now() - interval '2 hours'
where key = 'key-1' and request_hash = 'hash-1' and scope like '%' || tests.id('owner_a')::text;
insert into once_results select 'expired', * from pg_temp.create_as('owner_a', 'key-1', 'hash-3', 'Later Inc');
reset role;
select is((select replayed from once_results where label = 'expired'), false,
  'after its window a key runs a new request');

-- Bad keys and windows are refused before anything runs.
select throws_ok(
  $$select * from pg_temp.create_as('owner_a', '', 'hash-1', 'Empty Key Inc')$$,
  '22023', null, 'an empty key is refused');
reset role;
select throws_ok(
  $$select * from core.gate_call_once('k', 'h', interval '31 days', 'authenticated', null, null, null, null, null, null,
      false, null, 'select null::json', null)$$,
  '22023', null, 'a window over 30 days is refused');
select is(tests.count_rows('core.organizations', '{"name": "Empty Key Inc"}')::int, 0,
  'a refused key created nothing');

-- Purge deletes the expired records only.
update platform.idempotent_calls set expires_at = now() - interval '1 second' where key = 'key-fail';
select is(platform.purge_idempotent_calls(), 1, 'purge deletes the expired record');
select is((select count(*)::int from platform.idempotent_calls), 2, 'and keeps the others');

-- A concurrent copy waits for the first and replays its result (two committed connections).
select tests.dblink_open('once_a');
select tests.dblink_open('once_b');
select extensions.dblink_exec('once_a', 'begin');
select is(
  (select r.replayed from extensions.dblink('once_a',
     $q$select replayed, result::text from core.gate_call_once('race-key', 'race-hash', interval '1 hour',
          'anon', null, '{"role":"anon"}', null, null, null, null, false, null,
          'select pg_catalog.to_json(pg_catalog.clock_timestamp())', null)$q$) as r(replayed boolean, result text)),
  false, 'the first copy runs');
select extensions.dblink_send_query('once_b',
  $q$select replayed, result::text from core.gate_call_once('race-key', 'race-hash', interval '1 hour',
       'anon', null, '{"role":"anon"}', null, null, null, null, false, null,
       'select pg_catalog.to_json(pg_catalog.clock_timestamp())', null)$q$);
select pg_sleep(0.2);
select is(extensions.dblink_is_busy('once_b'), 1, 'the concurrent copy waits for the first');
select extensions.dblink_exec('once_a', 'commit');
select is(
  (select r.replayed from extensions.dblink_get_result('once_b') as r(replayed boolean, result text)),
  true, 'once the first commits, the copy is answered from its record');
select extensions.dblink_exec('once_a', $q$delete from platform.idempotent_calls where key = 'race-key'$q$);
select extensions.dblink_disconnect('once_a');
select extensions.dblink_disconnect('once_b');

-- Closed to the API roles and to app_user.
select ok(not has_function_privilege('authenticated',
  'core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, uuid, text, json)', 'execute')
  and not has_function_privilege('authenticated', 'platform.claim_idempotency_key(text, text, text, interval)', 'execute')
  and not has_function_privilege('authenticated', 'platform.record_idempotent_result(text, text, json)', 'execute')
  and not has_function_privilege('authenticated', 'platform.purge_idempotent_calls(integer)', 'execute')
  and not has_function_privilege('anon',
  'core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, uuid, text, json)', 'execute')
  and not has_function_privilege('app_user',
  'core.gate_call_once(text, text, interval, text, uuid, text, text, text, text, text, boolean, uuid, text, json)', 'execute'),
  'the API roles and app_user cannot execute the idempotency functions');

select * from finish();
rollback;
