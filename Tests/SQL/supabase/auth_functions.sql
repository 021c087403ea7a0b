-- Supabase adapter: on a plain PostgreSQL the migration provides auth.uid(), auth.role(),
-- auth.email() and auth.jwt() with Supabase's behaviour — the legacy per-claim setting
-- (request.jwt.claim.<name>, or request.jwt.claim for jwt()) first, then the JSON in
-- request.jwt.claims; empty strings count as absent — as STABLE SQL functions the API roles
-- may call.
begin;
select plan(24);

select set_config('request.jwt.claims',
  '{"sub": "11111111-1111-1111-1111-111111111111", "role": "authenticated", "email": "claims@smta.test", "aud": "authenticated"}', true);
select set_config('request.jwt.claim.sub', '', true);
select is(auth.uid(), '11111111-1111-1111-1111-111111111111'::uuid, 'auth.uid() is the sub of request.jwt.claims');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.email(), 'claims@smta.test', 'auth.email() is the email claim');
select is(auth.jwt() ->> 'aud', 'authenticated', 'auth.jwt() returns the whole claims object');
select is(pg_typeof(auth.jwt())::text, 'jsonb', 'auth.jwt() is jsonb');

select set_config('request.jwt.claim.sub', '22222222-2222-2222-2222-222222222222', true);
select is(auth.uid(), '22222222-2222-2222-2222-222222222222'::uuid, 'the legacy request.jwt.claim.sub wins when non-empty');
select set_config('request.jwt.claim.role', 'service_role', true);
select is(auth.role(), 'service_role', 'the legacy request.jwt.claim.role wins when non-empty');
select set_config('request.jwt.claim.email', 'legacy@smta.test', true);
select is(auth.email(), 'legacy@smta.test', 'the legacy request.jwt.claim.email wins when non-empty');
select set_config('request.jwt.claim', '{"sub": "legacy"}', true);
select is(auth.jwt() ->> 'sub', 'legacy', 'the legacy request.jwt.claim wins for auth.jwt() when non-empty');

select set_config('request.jwt.claim.sub', '', true);
select set_config('request.jwt.claim.role', '', true);
select set_config('request.jwt.claim.email', '', true);
select set_config('request.jwt.claim', '', true);
select is(auth.uid(), '11111111-1111-1111-1111-111111111111'::uuid, 'an empty legacy setting counts as absent');
select is(auth.jwt() ->> 'sub', '11111111-1111-1111-1111-111111111111', 'an empty legacy claim object counts as absent');

select set_config('request.jwt.claims', '', true);
select is(auth.uid(), null, 'with both settings empty auth.uid() is null');
select is(auth.role(), null, 'with both settings empty auth.role() is null');
select is(auth.jwt(), null, 'with both settings empty auth.jwt() is null');

select set_config('request.jwt.claims', '{"role": "anon"}', true);
select is(auth.uid(), null, 'an anon token has no auth.uid()');
select is(auth.role(), 'anon', 'an anon token has role anon');

select is_empty(
  $$select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname in ('uid', 'role', 'email', 'jwt')
      and not (p.provolatile = 's' and p.prolang = (select oid from pg_language where lanname = 'sql'))$$,
  'the auth functions are STABLE SQL functions');
select is((select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'auth' and p.proname in ('uid', 'role', 'email', 'jwt')), 4,
  'all four auth functions exist');
select ok(has_function_privilege('anon', 'auth.uid()', 'EXECUTE')
      and has_function_privilege('authenticated', 'auth.uid()', 'EXECUTE')
      and has_function_privilege('service_role', 'auth.uid()', 'EXECUTE'),
  'anon, authenticated and service_role may call auth.uid() (as on Supabase)');
select ok(has_function_privilege('authenticated', 'auth.jwt()', 'EXECUTE') and has_function_privilege('authenticated', 'auth.email()', 'EXECUTE')
      and has_function_privilege('authenticated', 'auth.role()', 'EXECUTE'),
  'authenticated may call auth.role(), auth.email() and auth.jwt()');

-- The settings are transaction-local: the next transaction on a pooled connection sees none.
select tests.dblink_open('pooled');
select extensions.dblink_exec('pooled', 'begin');
select tests.dblink_perform('pooled', $$set_config('request.jwt.claims', '{"sub": "33333333-3333-3333-3333-333333333333"}', true)$$);
select is((select u from extensions.dblink('pooled', 'select auth.uid()') as t(u uuid)), '33333333-3333-3333-3333-333333333333'::uuid,
  'inside its transaction a request has its identity');
select extensions.dblink_exec('pooled', 'commit');
select is((select u from extensions.dblink('pooled', 'select auth.uid()') as t(u uuid)), null,
  'the next transaction on the same connection has no identity');
select is((select u from extensions.dblink('pooled', 'select core.get_current_user_id()') as t(u uuid)), null,
  'nor does core.get_current_user_id()');
select extensions.dblink_disconnect('pooled');

-- A sub that is not a uuid is an error, not an identity.
select set_config('request.jwt.claims', '{"sub": "not-a-uuid"}', true);
select throws_ok('select auth.uid()', '22P02', null, 'a sub that is not a uuid raises instead of identifying anyone');

select * from finish();
rollback;
