-- Concurrency: ownership transfers racing each other leave the organization with exactly one
-- live super_admin. First the owner transfers to two members from two sessions at once
-- (exactly one transfer wins); then the owner hands over while the receiving member, in a
-- second session, already passes ownership on. Fixtures are committed through dblink sessions
-- and removed at the end.
begin;
select plan(8);
set local client_min_messages = warning;

select tests.remember('owner', gen_random_uuid()), tests.remember('m1', gen_random_uuid()),
       tests.remember('m2', gen_random_uuid()), tests.remember('org', gen_random_uuid());
select set_config('tests.tag', left(tests.id('org')::text, 8), true);
select tests.dblink_open('setup');
select tests.dblink_perform('setup', format(
  $$tests.create_user(%L, null, null, %L), tests.create_user(%L, null, null, %L), tests.create_user(%L, null, null, %L),
    tests.create_org(%L, %L, %L), tests.add_member(%L, %L, 'manager'), tests.add_member(%L, %L, 'team')$$,
  'owner.' || current_setting('tests.tag') || '@smta.test', tests.id('owner'),
  'm1.' || current_setting('tests.tag') || '@smta.test', tests.id('m1'),
  'm2.' || current_setting('tests.tag') || '@smta.test', tests.id('m2'),
  tests.id('owner'), 'Race ' || current_setting('tests.tag'), tests.id('org'),
  tests.id('org'), tests.id('m1'), tests.id('org'), tests.id('m2')));

create temporary table outcomes (race text, session text, outcome text) on commit drop;

-- s1 runs its transfer first and keeps its transaction open while s2 runs its own.
create function pg_temp.race(p_race text, p_caller1 uuid, p_target1 uuid, p_caller2 uuid, p_target2 uuid) returns void
language plpgsql as $$
begin
  perform tests.dblink_open('s1');
  perform tests.dblink_open('s2');
  perform extensions.dblink_exec('s1', 'begin');
  perform extensions.dblink_exec('s2', 'begin');
  perform tests.dblink_perform('s1', format('tests.authenticate_as(%L)', p_caller1));
  perform tests.dblink_perform('s2', format('tests.authenticate_as(%L)', p_caller2));
  perform extensions.dblink_send_query('s1', format('select count(*) from (select public.transfer_super_admin(%L, %L)) q', tests.id('org'), p_target1));
  while extensions.dblink_is_busy('s1') = 1 loop perform pg_sleep(0.02); end loop;
  perform extensions.dblink_send_query('s2', format('select count(*) from (select public.transfer_super_admin(%L, %L)) q', tests.id('org'), p_target2));
  perform pg_sleep(0.3);
  insert into outcomes values (p_race, 's1', tests.dblink_outcome('s1'));
  perform extensions.dblink_exec('s1', 'commit');
  insert into outcomes values (p_race, 's2', tests.dblink_outcome('s2'));
  perform extensions.dblink_exec('s2', 'commit');
  perform extensions.dblink_disconnect('s1');
  perform extensions.dblink_disconnect('s2');
end
$$;

select pg_temp.race('double transfer', tests.id('owner'), tests.id('m1'), tests.id('owner'), tests.id('m2'));
select is((select count(*)::int from outcomes where race = 'double transfer' and outcome = 'ok'), 1,
  'the owner transferring to two members at once: exactly one transfer succeeds');
select is(cardinality(tests.super_admins(tests.id('org'))), 1, 'the organization has exactly one live super_admin');
select ok(tests.super_admins(tests.id('org')) <@ array[tests.id('m1'), tests.id('m2')], 'and it is one of the two members');

-- Whoever owns it now hands it back to the first owner while, in another session, the first
-- owner (not yet owner again) tries to pass it on.
select tests.remember('current', (tests.super_admins(tests.id('org')))[1]);
select tests.remember('other', case when tests.id('current') = tests.id('m1') then tests.id('m2') else tests.id('m1') end);
select pg_temp.race('hand-over chain', tests.id('current'), tests.id('owner'), tests.id('owner'), tests.id('other'));
select ok((select count(*) from outcomes where race = 'hand-over chain' and session = 's1' and outcome = 'ok') = 1,
  'the owner''s hand-over succeeds');
select is(cardinality(tests.super_admins(tests.id('org'))), 1,
  'after the chained transfers the organization still has exactly one live super_admin');
select is(tests.count_rows('core.memberships', jsonb_build_object('organization_id', tests.id('org'), 'is_deleted', false)), 3::bigint,
  'all three members are still live members');

select tests.dblink_perform('setup', format('tests.purge(array[%L]::uuid[], array[%L, %L, %L]::uuid[])',
  tests.id('org'), tests.id('owner'), tests.id('m1'), tests.id('m2')));
select extensions.dblink_disconnect('setup');
select is(tests.count_rows('core.organizations', jsonb_build_object('id', tests.id('org'))), 0::bigint, 'cleanup removed the organization');
select is(tests.count_rows('core.memberships', jsonb_build_object('organization_id', tests.id('org'))), 0::bigint, 'cleanup removed the memberships');

select * from finish();
rollback;
