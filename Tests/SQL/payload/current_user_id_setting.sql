-- Payload adapter: core.get_current_user_id() is the transaction-local setting
-- app.current_user_id (request.jwt.claims means nothing here); an empty setting identifies
-- nobody; a value that is not a uuid is an error; the setting does not outlive its transaction
-- on a pooled connection; the caller's email is the users_meta email.
begin;
select plan(9);
select tests.world();

select set_config('app.current_user_id', tests.id('team_a')::text, true);
select is(core.get_current_user_id(), tests.id('team_a'), 'core.get_current_user_id() is app.current_user_id');
select is(core.get_current_user_email(), 'team.a@smta.test', 'core.get_current_user_email() is the users_meta email');
select set_config('app.current_user_id', '', true);
select is(core.get_current_user_id(), null, 'an empty setting identifies nobody');
select set_config('request.jwt.claims', format('{"sub": "%s"}', tests.id('owner_a')), true);
select is(core.get_current_user_id(), null, 'JWT claims identify nobody under the Payload adapter');
select set_config('request.jwt.claims', '', true);
select set_config('app.current_user_id', 'users:2', true);
select throws_ok('select core.get_current_user_id()', '22P02', null, 'a value that is not a uuid raises instead of identifying anyone');
select set_config('app.current_user_id', '', true);

select tests.authenticate_as(tests.id('team_a'), 'new.address@smta.test');
select is(core.get_current_user_email(), 'new.address@smta.test', 'the session''s email reaches SQL through users_meta');
select tests.reset_identity();

select tests.dblink_open('pooled');
select extensions.dblink_exec('pooled', 'begin');
select tests.dblink_perform('pooled', $$set_config('app.current_user_id', '33333333-3333-3333-3333-333333333333', true)$$);
select is((select u from extensions.dblink('pooled', 'select core.get_current_user_id()') as t(u uuid)),
  '33333333-3333-3333-3333-333333333333'::uuid, 'inside its transaction a request has its identity');
select extensions.dblink_exec('pooled', 'commit');
select is((select u from extensions.dblink('pooled', 'select core.get_current_user_id()') as t(u uuid)), null,
  'the next transaction on the same connection has no identity');
select extensions.dblink_disconnect('pooled');

select ok(pg_has_role('authenticated', 'app_user', 'member') and pg_has_role('service_role', 'app_admin', 'member'),
  'authenticated is an app_user and service_role an app_admin');

select * from finish();
rollback;
