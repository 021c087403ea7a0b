-- core.set_caller with a link email SMTA cannot record (outside the address pattern): the
-- caller is still served as the linked user, the email is not recorded and the previous
-- recordable one stays; core.link_identity, called directly, still refuses it.
begin;
select plan(6);

create temporary table call_results (value json);
grant all on call_results to public;

-- First sight with a recordable email, then the same identity with unrecordable ones.
select core.set_caller('authenticated', null, '{"role":"authenticated"}', null, 'payload', 'users:41', 'obrien@smta.test', false, null);
reset role;
insert into call_results
select core.gate_call(
  'authenticated', null, '{"role":"authenticated"}', null,
  'payload', 'users:41', 'o''brien@smta.test', false, null,
  'select pg_catalog.json_build_object(''user'', core.get_current_user_id())', '{}');
reset role;
select lives_ok(
  $$select core.set_caller('authenticated', null, '{"role":"authenticated"}', null, 'payload', 'users:42', 'jörg@smta.test', false, null)$$,
  'a new identity whose email is unrecordable is served');
reset role;

select is((select value->>'user' from call_results),
  (select user_id::text from core.identity_links where provider = 'payload' and subject = 'users:41'),
  'the statement sees the linked user id');
select is(
  (select m.email from core.users_meta m join core.identity_links l on l.user_id = m.id where l.subject = 'users:41'),
  'obrien@smta.test', 'the last recordable email stays in core.users_meta');
select is(
  (select l.email from core.identity_links l where l.subject = 'users:42'),
  null, 'an unrecordable email is not recorded on a new link');
select is(core.recordable_email('  Someone@Smta.Test '), 'Someone@Smta.Test', 'recordable_email trims a recordable email');
select throws_ok(
  $$select core.link_identity('payload', 'users:43', 'o''brien@smta.test')$$,
  '22023', 'The email is not a valid email address', 'core.link_identity itself still refuses it');

select * from finish();
rollback;
