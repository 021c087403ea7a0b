-- core.gate_call with a Payload identity link: the link is mapped (as the login role, before the
-- role switch) and the statement sees the mapped user id; the email reaches core.users_meta.
begin;
select plan(3);

create temporary table call_results (value json);
grant all on call_results to public;

insert into call_results
select core.gate_call(
  'authenticated', null, '{"role":"authenticated","collection":"users"}', null,
  'payload', 'users:7', 'seven@smta.test', false, null,
  'select pg_catalog.json_build_object(''user'', core.get_current_user_id(), ''role'', current_user)', '{}');
reset role;

select is((select value->>'user' from call_results),
  (select user_id::text from core.identity_links where provider = 'payload' and subject = 'users:7'),
  'the statement sees the id the link maps to');
select is((select value->>'role' from call_results), 'authenticated', 'and runs as authenticated');
select is(
  (select m.email from core.users_meta m join core.identity_links l on l.user_id = m.id where l.subject = 'users:7'),
  'seven@smta.test', 'the email reaches core.users_meta');

select * from finish();
rollback;
