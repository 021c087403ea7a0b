-- anon (a request without a user) may execute exactly one public function of ours:
-- get_invitation_details(text), for the invitation landing page, where the raw token is the
-- credential. It reveals nothing for an unknown token and never the inviter's email. Every
-- other public function of ours (list_subscription_products included) is refused to anon with
-- 42501 before it does anything: the calls are generated from the catalogue, each with sample
-- arguments. anon reaches neither core nor platform; authenticated (through app_user) may
-- execute every public function of ours.
begin;

create temporary view our_public_functions as
select p.oid,
       p.oid::regprocedure::text as signature,
       tests.sample_call(p.oid) as call
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = 'public'
  and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e');
grant select on our_public_functions to public;

select plan(11 + (select count(*)::int from our_public_functions
                  where signature <> 'get_invitation_details(text)'));

select cmp_ok((select count(*)::int from our_public_functions), '>=', 55,
  'the API has its functions (the checks below are not vacuous)');

select set_eq(
  $$select signature from our_public_functions where has_function_privilege('anon', oid, 'EXECUTE')$$,
  array['get_invitation_details(text)'],
  'anon holds EXECUTE on get_invitation_details(text) and on no other public function of ours');

select ok(not has_function_privilege('anon', 'public.list_subscription_products()', 'EXECUTE'),
  'list_subscription_products stays closed to anon');

select is_empty(
  $$select signature from our_public_functions where not has_function_privilege('authenticated', oid, 'EXECUTE')$$,
  'authenticated holds EXECUTE on every public function of ours');

select ok(
  not has_schema_privilege('anon', 'core', 'USAGE') and not has_schema_privilege('anon', 'platform', 'USAGE'),
  'anon has no USAGE on schemas core and platform');

-- A live invitation, made by a member who has no name on their profile (so that nothing else
-- could stand in for one).
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('nameless', tests.create_user('nameless.inviter@smta.test'));
select tests.add_member(tests.id('org_a'), tests.id('nameless'), 'team');
select tests.authenticate_as(tests.id('nameless'));
select set_config('tests.token', r.token, true)
  from public.create_invitation('landing@smta.test', tests.id('org_a'), tests.id('team_role')) r;

select tests.authenticate_anon();

select tests.refused(f.call, format('anon is refused %s', f.signature), '{42501}')
from our_public_functions f
where f.signature <> 'get_invitation_details(text)'
order by f.signature;

select is_empty($$select * from public.get_invitation_details('an-unknown-token')$$,
  'anon learns nothing from an unknown token');
select is_empty(format('select * from public.get_invitation_details(%L)', current_setting('tests.token') || 'x'),
  'anon learns nothing from a token one character off a real one');
select is_empty($$select * from public.get_invitation_details('')$$,
  'anon learns nothing from an empty token');
select is_empty($$select * from public.get_invitation_details(null)$$,
  'anon learns nothing from a null token');
select results_eq(
  format('select email, organization_name, role_name, invited_by_name, status from public.get_invitation_details(%L)',
         current_setting('tests.token')),
  $$values ('landing@smta.test', 'Org A', 'team', null::text, 'pending')$$,
  'anon holding the token sees what the invitation offers, and no name for a nameless inviter');
select ok(not exists (select 1 from public.get_invitation_details(current_setting('tests.token')) d
                      where to_jsonb(d)::text ilike '%nameless.inviter@smta.test%'),
  'the details never carry the inviter''s email');

select tests.reset_identity();
select * from finish();
rollback;
