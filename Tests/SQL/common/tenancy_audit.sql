-- With p_audit (the default), every insert, update and delete on a tenancy table is written to
-- core.audit_logs in the same transaction, with the row's organization and the actor, and
-- members read it back through get_audit_log; p_audit => false writes nothing; a table that
-- already logs through core.audit_row_change is not logged twice.
begin;
select plan(10);
select tests.world();

create table app.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  name text not null
);
create table app.quiet (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null
);
create table app.logged (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null
);
create trigger my_own_audit after insert or update or delete on app.logged
  for each row execute function core.audit_row_change('org_id', '');

select core.enable_tenancy('app.projects');
select core.enable_tenancy('app.quiet', p_audit => false);
select core.enable_tenancy('app.logged', 'org_id');

select tests.authenticate_as(tests.id('team_a'));
insert into app.projects (organization_id, name) values (tests.id('org_a'), 'Audited');
select tests.remember('project', (select id from app.projects where name = 'Audited'));
update app.projects set name = 'Audited (renamed)' where id = tests.id('project');
delete from app.projects where id = tests.id('project');
insert into app.quiet (organization_id) values (tests.id('org_a'));
insert into app.logged (org_id) values (tests.id('org_a'));
select tests.reset_identity();

select is(
  tests.count_rows('core.audit_logs', jsonb_build_object(
    'organization_id', tests.id('org_a'), 'actor_id', tests.id('team_a'), 'target_table', 'app.projects',
    'target_id', tests.id('project'), 'action', 'insert')),
  1::bigint,
  'an insert is audited with the organization, the actor, the table and the row');
select is(
  (select metadata -> 'new' ->> 'name' from core.audit_logs
   where target_id = tests.id('project') and action = 'insert'),
  'Audited',
  'the insert''s audit row carries the new row');
select is(
  (select metadata -> 'changed' -> 'name' from core.audit_logs
   where target_id = tests.id('project') and action = 'update'),
  '{"new": "Audited (renamed)", "old": "Audited"}'::jsonb,
  'an update is audited with the changed column, old and new');
select is(
  tests.count_rows('core.audit_logs', jsonb_build_object(
    'organization_id', tests.id('org_a'), 'actor_id', tests.id('team_a'), 'target_id', tests.id('project'), 'action', 'delete')),
  1::bigint,
  'a delete is audited with the organization and the actor');
select is(tests.count_rows('core.audit_logs', '{"target_table": "app.quiet"}'), 0::bigint,
  'p_audit => false writes no audit row');
select is(tests.count_rows('core.audit_logs', '{"target_table": "app.logged"}'), 1::bigint,
  'a table with its own audit trigger is logged once, not twice');
select is(
  array(select tgname::text from pg_trigger where tgrelid = 'app.logged'::regclass order by 1),
  array['my_own_audit'],
  'and keeps its own trigger');

select tests.authenticate_as(tests.id('member_a'));
select ok(exists (select 1 from public.get_audit_log(tests.id('org_a'), 100) where target_table = 'app.projects'),
  'a member of the organization reads the app table''s audit rows through get_audit_log');
select tests.authenticate_as(tests.id('owner_b'));
select is((select count(*)::int from core.audit_logs where target_table = 'app.projects'), 0,
  'another organization''s super_admin reads none of them');
select tests.reset_identity();

-- The log is append-only for app tables too.
select tests.authenticate_as(tests.id('owner_a'));
select tests.no_change($$delete from core.audit_logs where target_table = 'app.projects'$$,
  'members cannot erase the app table''s audit rows');
select tests.reset_identity();

select * from finish();
rollback;
