-- Supabase adapter: core.get_current_user_id() is auth.uid() (the JWT, never
-- app.current_user_id); core.get_current_user_email() is the JWT's email when non-empty, else
-- the users_meta email; the API roles map onto SMTA's neutral roles; without Vault, secrets use
-- the pgcrypto store; requests authenticated the Supabase way reach the API.
begin;
select plan(18);
select tests.world();

select set_config('request.jwt.claims', format('{"sub": "%s", "email": ""}', tests.id('team_a')), true);
select set_config('app.current_user_id', tests.id('owner_a')::text, true);
select is(core.get_current_user_id(), tests.id('team_a'), 'core.get_current_user_id() follows the JWT');
select is(core.get_current_user_id(), auth.uid(), 'core.get_current_user_id() equals auth.uid()');
select is(core.get_current_user_email(), 'team.a@smta.test', 'an empty email claim falls back to the users_meta email');
select set_config('request.jwt.claims', format('{"sub": "%s", "email": "Other@Smta.test"}', tests.id('team_a')), true);
select is(core.get_current_user_email(), 'Other@Smta.test', 'a non-empty email claim is the caller''s email');
select set_config('request.jwt.claims', '', true);
select is(core.get_current_user_id(), null, 'app.current_user_id alone identifies nobody under the Supabase adapter');
-- 0002 reads the settings itself instead of calling auth.uid(): the same answer in every case.
select set_config('request.jwt.claims', format('{"sub": "%s"}', tests.id('team_a')), true);
select set_config('request.jwt.claim.sub', tests.id('owner_a')::text, true);
select is(core.get_current_user_id(), tests.id('owner_a'),
  'the legacy request.jwt.claim.sub, when set, wins over the claims'' sub, as in auth.uid()');
select set_config('request.jwt.claim.sub', '', true);
select set_config('request.jwt.claims', '{"sub": "users:2"}', true);
select throws_ok('select core.get_current_user_id()', '22P02', null,
  'a sub that is not a uuid raises instead of identifying anyone');
select throws_ok('select auth.uid()', '22P02', null, 'as auth.uid() does');
select set_config('request.jwt.claims', '', true);
select is((select l.lanname::text from pg_proc p join pg_language l on l.oid = p.prolang
           where p.oid = 'core.get_current_user_id()'::regprocedure), 'plpgsql',
  'the hook is PL/pgSQL, whose plan lasts the session (a SQL function with SET is planned on every call)');

select ok(pg_has_role('authenticated', 'app_user', 'member'), 'authenticated is an app_user');
select ok(pg_has_role('service_role', 'app_admin', 'member'), 'service_role is an app_admin');
select ok(not pg_has_role('anon', 'app_user', 'member') and not pg_has_role('anon', 'app_admin', 'member'),
  'anon is neither app_user nor app_admin');
select ok(not pg_has_role('authenticated', 'app_admin', 'member'), 'authenticated is not an app_admin');

select tests.authenticate_as(tests.id('owner_a'));
select results_eq('select id from public.list_my_organizations()', format('values (%L::uuid)', tests.id('org_a')),
  'a request carrying the owner''s claims reaches the API as the owner');
select is(current_user::text, 'authenticated', 'it runs as role authenticated');

select tests.reset_identity();
select ok(to_regnamespace('vault') is null, 'Vault is not installed here (plain PostgreSQL)');
select set_config('app.secrets_key', 'supabase-test-key-0123456789abcdef', true);
select set_config('tests.ref', core.store_secret_impl('round-trip-value', 'probe'), true);
select isnt(current_setting('tests.ref'), 'round-trip-value', 'without Vault a secret is stored through pgcrypto, not in clear');
select is(core.read_secret_impl(current_setting('tests.ref')), 'round-trip-value', 'and reads back with the key');

select * from finish();
rollback;
