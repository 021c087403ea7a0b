-- Concurrency: two sessions accept one invitation at the same time; exactly one wins, one
-- membership results, and the invitation is accepted once. Twice: the same user in two tabs,
-- and two accounts sharing the invited email (which no unique index can save). The fixtures
-- are committed through dblink sessions and removed at the end.
begin;
select plan(9);
set local client_min_messages = warning;

-- Committed fixtures, with ids made here.
select tests.remember('owner', gen_random_uuid()), tests.remember('org', gen_random_uuid()),
       tests.remember('invitee', gen_random_uuid()), tests.remember('twin1', gen_random_uuid()),
       tests.remember('twin2', gen_random_uuid());
select set_config('tests.tag', left(tests.id('org')::text, 8), true);
select tests.dblink_open('setup');
select tests.dblink_perform('setup', format(
  $$tests.create_user(%L, null, null, %L), tests.create_user(%L, null, null, %L),
           tests.create_user(%L, null, null, %L), tests.create_user(%L, null, null, %L),
           tests.create_org(%L, %L, %L)$$,
  'owner.' || current_setting('tests.tag') || '@smta.test', tests.id('owner'),
  'invitee.' || current_setting('tests.tag') || '@smta.test', tests.id('invitee'),
  'twin.' || current_setting('tests.tag') || '@smta.test', tests.id('twin1'),
  'twin.' || current_setting('tests.tag') || '@smta.test', tests.id('twin2'),
  tests.id('owner'), 'Race ' || current_setting('tests.tag'), tests.id('org')));
select extensions.dblink_exec('setup', 'begin');
select tests.dblink_perform('setup', format('tests.authenticate_as(%L)', tests.id('owner')));
select set_config('tests.token1', token, true) from extensions.dblink('setup', format(
  $$select token from public.create_invitation(%L, %L, %L)$$,
  'invitee.' || current_setting('tests.tag') || '@smta.test', tests.id('org'), tests.role_id('team'))) as t(token text);
select set_config('tests.token2', token, true) from extensions.dblink('setup', format(
  $$select token from public.create_invitation(%L, %L, %L)$$,
  'twin.' || current_setting('tests.tag') || '@smta.test', tests.id('org'), tests.role_id('team'))) as t(token text);
select extensions.dblink_exec('setup', 'commit');

create temporary table outcomes (race text, session text, outcome text) on commit drop;

-- Races one acceptance per session: s1 first, then s2 while s1's transaction is still open.
create function pg_temp.race(p_race text, p_user1 uuid, p_user2 uuid, p_token text) returns void
language plpgsql as $$
begin
  perform tests.dblink_open('s1');
  perform tests.dblink_open('s2');
  perform extensions.dblink_exec('s1', 'begin');
  perform extensions.dblink_exec('s2', 'begin');
  perform tests.dblink_perform('s1', format('tests.authenticate_as(%L)', p_user1));
  perform tests.dblink_perform('s2', format('tests.authenticate_as(%L)', p_user2));
  perform extensions.dblink_send_query('s1', format('select count(*) from public.accept_invitation(%L)', p_token));
  while extensions.dblink_is_busy('s1') = 1 loop perform pg_sleep(0.02); end loop;
  perform extensions.dblink_send_query('s2', format('select count(*) from public.accept_invitation(%L)', p_token));
  perform pg_sleep(0.3);
  insert into outcomes values (p_race, 's1', tests.dblink_outcome('s1'));
  perform extensions.dblink_exec('s1', 'commit');
  insert into outcomes values (p_race, 's2', tests.dblink_outcome('s2'));
  perform extensions.dblink_exec('s2', 'commit');
  perform extensions.dblink_disconnect('s1');
  perform extensions.dblink_disconnect('s2');
end
$$;

select pg_temp.race('same user', tests.id('invitee'), tests.id('invitee'), current_setting('tests.token1'));
select pg_temp.race('twin accounts', tests.id('twin1'), tests.id('twin2'), current_setting('tests.token2'));

select is((select count(*)::int from outcomes where race = 'same user' and outcome = 'ok'), 1,
  'the same user accepting in two sessions at once: exactly one acceptance succeeds');
select is(tests.count_rows('core.memberships', jsonb_build_object('organization_id', tests.id('org'), 'user_id', tests.id('invitee'), 'is_deleted', false)),
  1::bigint, 'exactly one membership results');
select is(tests.count_rows('core.invitations', jsonb_build_object('organization_id', tests.id('org'), 'status', 'accepted',
                                                                  'accepted_by', tests.id('invitee'))),
  1::bigint, 'the invitation is accepted once, by that user');

select is((select count(*)::int from outcomes where race = 'twin accounts' and outcome = 'ok'), 1,
  'two accounts with the invited email accepting at once: exactly one succeeds');
select is(tests.count_rows('core.memberships', jsonb_build_object('organization_id', tests.id('org'), 'user_id', tests.id('twin1'), 'is_deleted', false))
        + tests.count_rows('core.memberships', jsonb_build_object('organization_id', tests.id('org'), 'user_id', tests.id('twin2'), 'is_deleted', false)),
  2::bigint - 1, 'exactly one of the two accounts became a member');
select is((select r ->> 'accepted_by' from tests.rows('core.invitations', jsonb_build_object('organization_id', tests.id('org'), 'status', 'accepted')) r
            where r ->> 'accepted_by' in (tests.id('twin1')::text, tests.id('twin2')::text)),
          (select case when tests.membership_state(tests.id('org'), tests.id('twin1')) = 'live' then tests.id('twin1') else tests.id('twin2') end)::text,
  'the invitation records the account that won');

-- Clean up everything committed, and check that nothing is left.
select tests.dblink_perform('setup', format('tests.purge(array[%L]::uuid[], array[%L, %L, %L, %L]::uuid[])',
  tests.id('org'), tests.id('owner'), tests.id('invitee'), tests.id('twin1'), tests.id('twin2')));
select extensions.dblink_disconnect('setup');
select is(tests.count_rows('core.organizations', jsonb_build_object('id', tests.id('org'))), 0::bigint, 'cleanup removed the organization');
select is(tests.count_rows('core.users_meta', jsonb_build_object('email', 'twin.' || current_setting('tests.tag') || '@smta.test')), 0::bigint,
  'cleanup removed the users');
select is(tests.count_rows('core.audit_logs', jsonb_build_object('organization_id', tests.id('org'))), 0::bigint,
  'cleanup removed the audit rows');

select * from finish();
rollback;
