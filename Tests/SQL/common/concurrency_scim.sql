-- Concurrency of SCIM provisioning: four sessions of the bridge create pending SCIM users at
-- once in an organization with two free seats: exactly two are created, the other two are told
-- the seat limit is reached. A revocation waits for a SCIM call in flight (the call holds its
-- token), and the token acts for nothing after it; the bridge's authentication of the same
-- token meanwhile is not held up. The fixtures are committed through dblink sessions and
-- removed at the end.
begin;
select plan(9);
set local client_min_messages = warning;

select tests.remember('owner', gen_random_uuid()), tests.remember('org', gen_random_uuid());
select set_config('tests.tag', left(tests.id('org')::text, 8), true);
select set_config('tests.raw', 'smta_scim_' || rpad('race' || current_setting('tests.tag'), 64, 'x'), true);
select tests.dblink_open('setup');
select tests.dblink_perform('setup', format(
  $$tests.create_user(%L, null, null, %L), tests.create_org(%L, %L, %L)$$,
  'owner.' || current_setting('tests.tag') || '@smta.test', tests.id('owner'),
  tests.id('owner'), 'SCIM race ' || current_setting('tests.tag'), tests.id('org')));
-- Three seats: the owner holds one, two are free.
select extensions.dblink_exec('setup', format(
  $$insert into platform.platform_subscription_overrides (organization_id, plan_override, features, reason)
    values (%L, '', '{"max_members": 3}', 'scim race')$$, tests.id('org')));
select set_config('tests.tok', t.id::text, true) from extensions.dblink('setup', format(
  $$insert into core.scim_tokens (organization_id, label, token_hash) values (%L, 'Race', core.hash_invitation_token(%L)) returning id$$,
  tests.id('org'), current_setting('tests.raw'))) as t(id uuid);

-- Four sessions of the bridge create a user each.
create temporary table outcomes (session int, outcome text) on commit drop;
select tests.dblink_open('s' || n) from generate_series(1, 4) as n;
select extensions.dblink_exec('s' || n, 'begin') from generate_series(1, 4) as n;
select tests.dblink_perform('s' || n, 'tests.authenticate_service_role()') from generate_series(1, 4) as n;
select extensions.dblink_send_query('s' || n, format($$select count(*) from platform.scim_create_user(%L, '{"user_name": "racer %s"}')$$,
                                                     current_setting('tests.tok'), n))
  from generate_series(1, 4) as n;
select pg_sleep(0.3);
create function pg_temp.settle() returns void language plpgsql as $$
declare
  v_outcome text;
  v_deadline timestamptz := clock_timestamp() + interval '60 seconds';
begin
  while (select count(*) from outcomes) < 4 loop
    if clock_timestamp() > v_deadline then
      raise exception 'the sessions did not finish within 60 seconds';
    end if;
    for n in 1 .. 4 loop
      continue when exists (select 1 from outcomes o where o.session = n)
                 or extensions.dblink_is_busy('s' || n) = 1;
      v_outcome := tests.dblink_outcome('s' || n);
      insert into outcomes values (n, v_outcome);
      perform extensions.dblink_exec('s' || n, case when v_outcome = 'ok' then 'commit' else 'rollback' end);
    end loop;
    perform pg_sleep(0.02);
  end loop;
end $$;
select pg_temp.settle();

select is((select count(*)::int from outcomes where outcome = 'ok'), 2, 'of four concurrent creations for two free seats, exactly two succeed');
select is((select count(*)::int from outcomes where outcome ~ 'seat limit of 3 members'), 2, 'the other two are told the seat limit is reached');
select is((select count(*)::int from core.scim_users where organization_id = tests.id('org')), 2, 'exactly two pending users hold the seats');

-- A SCIM call in flight holds its token: the owner's revocation waits for it.
select extensions.dblink_exec('s1', 'begin');
select tests.dblink_perform('s1', 'tests.authenticate_service_role()');
select tests.dblink_perform('s1', format($$(select count(*) from platform.scim_create_user(%L, '{"user_name": "in flight", "active": false}'))$$,
                                         current_setting('tests.tok')));
select extensions.dblink_exec('s2', 'begin');
select tests.dblink_perform('s2', format('tests.authenticate_as(%L)', tests.id('owner')));
select extensions.dblink_send_query('s2', format('select count(*) from (select public.revoke_scim_token(%L)) as r', current_setting('tests.tok')));
select pg_sleep(0.3);
select is(extensions.dblink_is_busy('s2'), 1, 'the revocation waits while a SCIM call of that token is in flight');
-- Meanwhile the bridge still authenticates the token (its last-use update is not held up).
select extensions.dblink_exec('s3', 'begin');
select tests.dblink_perform('s3', 'tests.authenticate_service_role()');
select extensions.dblink_send_query('s3', format('select count(*) from platform.authenticate_scim_token(%L)', current_setting('tests.raw')));
select pg_sleep(0.3);
select is(extensions.dblink_is_busy('s3'), 0, 'authenticating the same token is not held up by the call in flight');
select is(tests.dblink_outcome('s3'), 'ok', 'and answers');
select extensions.dblink_exec('s3', 'rollback');
select extensions.dblink_exec('s1', 'commit');
select is(tests.dblink_outcome('s2'), 'ok', 'once the call commits, the revocation goes through');
select extensions.dblink_exec('s2', 'commit');
select extensions.dblink_exec('s1', 'begin');
select tests.dblink_perform('s1', 'tests.authenticate_service_role()');
select extensions.dblink_send_query('s1', format($$select count(*) from platform.scim_create_user(%L, '{"user_name": "after"}')$$,
                                                 current_setting('tests.tok')));
select alike(tests.dblink_outcome('s1'), '%revoked or unknown%', 'after it the token creates nobody');
select extensions.dblink_exec('s1', 'rollback');
select extensions.dblink_disconnect('s' || n) from generate_series(1, 4) as n;

select tests.dblink_perform('setup', format('tests.purge(array[%L]::uuid[], array[%L]::uuid[])', tests.id('org'), tests.id('owner')));
select extensions.dblink_disconnect('setup');
select is((select count(*) from core.scim_users where organization_id = tests.id('org'))
          + (select count(*) from core.scim_tokens where organization_id = tests.id('org')), 0::bigint, 'cleanup removed the SCIM rows');

select * from finish();
rollback;
