-- Concurrency: four sessions accept one invitation link with two uses left at the same time;
-- exactly two join, the other two are told it is used up, and the link counts exactly its
-- maximum. The fixtures are committed through dblink sessions and removed at the end.
begin;
select plan(6);
set local client_min_messages = warning;

select tests.remember('owner', gen_random_uuid()), tests.remember('org', gen_random_uuid());
select tests.remember('u' || n, gen_random_uuid()) from generate_series(1, 4) as n;
select set_config('tests.tag', left(tests.id('org')::text, 8), true);
select tests.dblink_open('setup');
select tests.dblink_perform('setup', format(
  $$tests.create_user(%L, null, null, %L), tests.create_org(%L, %L, %L)$$,
  'owner.' || current_setting('tests.tag') || '@smta.test', tests.id('owner'),
  tests.id('owner'), 'Link race ' || current_setting('tests.tag'), tests.id('org')));
select tests.dblink_perform('setup', format('tests.create_user(%L, null, null, %L)',
  'racer' || n || '.' || current_setting('tests.tag') || '@smta.test', tests.id('u' || n)))
  from generate_series(1, 4) as n;
select extensions.dblink_exec('setup', 'begin');
select tests.dblink_perform('setup', format('tests.authenticate_as(%L)', tests.id('owner')));
select set_config('tests.token', token, true) from extensions.dblink('setup', format(
  $$select token from public.create_invitation_link(%L, %L, p_max_uses => 2)$$,
  tests.id('org'), tests.role_id('team'))) as t(token text);
select extensions.dblink_exec('setup', 'commit');

-- All four sessions open a transaction and send their accept; the first holds the link's row
-- lock until it commits, so the others queue behind it.
create temporary table outcomes (session int, outcome text) on commit drop;
select tests.dblink_open('s' || n) from generate_series(1, 4) as n;
select extensions.dblink_exec('s' || n, 'begin') from generate_series(1, 4) as n;
select tests.dblink_perform('s' || n, format('tests.authenticate_as(%L)', tests.id('u' || n))) from generate_series(1, 4) as n;
select extensions.dblink_send_query('s' || n, format('select count(*) from public.accept_invitation_link(%L)', current_setting('tests.token')))
  from generate_series(1, 4) as n;
select pg_sleep(0.3);
-- Settles the sessions in the order they finish (which waiter gets the lock next is
-- PostgreSQL's choice): a finished one is committed (or rolled back), releasing the next.
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
select extensions.dblink_disconnect('s' || n) from generate_series(1, 4) as n;

select is((select count(*)::int from outcomes where outcome = 'ok'), 2, 'of four concurrent accepts of a two-use link, exactly two succeed');
select is((select count(*)::int from outcomes where outcome ~ 'used up'), 2, 'the other two are told the link is used up');
select is((select count(*)::int from core.memberships m where m.organization_id = tests.id('org') and not m.is_deleted
             and m.user_id in (tests.id('u1'), tests.id('u2'), tests.id('u3'), tests.id('u4'))), 2,
  'exactly two memberships result');
select is((select use_count from core.invitation_links where organization_id = tests.id('org')), 2, 'the link counts exactly its two uses');

select tests.dblink_perform('setup', format('tests.purge(array[%L]::uuid[], array[%L, %L, %L, %L, %L]::uuid[])',
  tests.id('org'), tests.id('owner'), tests.id('u1'), tests.id('u2'), tests.id('u3'), tests.id('u4')));
select extensions.dblink_disconnect('setup');
select is(tests.count_rows('core.organizations', jsonb_build_object('id', tests.id('org'))), 0::bigint, 'cleanup removed the organization');
select is((select count(*) from core.invitation_links where organization_id = tests.id('org')), 0::bigint, 'cleanup removed the link');

select * from finish();
rollback;
