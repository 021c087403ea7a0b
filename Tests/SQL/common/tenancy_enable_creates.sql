-- core.enable_tenancy leaves exactly what Schema/README.md promises: row-level security enabled
-- and forced; the four membership policies for app_user (three on a soft-deleted table); the
-- indexes the policies need, only where the table has none; app_user's privileges and nothing
-- that bypasses RLS; the audit trigger. Only app_admin (service_role) and the owner may call it.
begin;
select plan(26);

create table app.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null references core.organizations (id),
  name text not null
);
-- Soft-deleted, serial id, other column names, unit-scoped.
create table app.notes (
  id bigserial primary key,
  org_id uuid not null,
  unit_id uuid,
  body text,
  is_deleted boolean not null default false,
  deleted_at timestamptz
);
-- Already has an index leading with its organization column.
create table app.tasks (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  created_at timestamptz not null default now()
);
create index tasks_by_org_and_time on app.tasks (organization_id, created_at desc);

select lives_ok($$select core.enable_tenancy('app.projects')$$, 'enable_tenancy accepts a table with organization_id');

-- Row-level security
select ok((select relrowsecurity and relforcerowsecurity from pg_class where oid = 'app.projects'::regclass),
  'row-level security is enabled and forced');

-- Policies
select is(
  array(select policyname || ' / ' || cmd from pg_policies where schemaname = 'app' and tablename = 'projects' order by 1),
  array[
    'smta tenancy: members add rows to their organizations / INSERT',
    'smta tenancy: members delete their organizations'' rows / DELETE',
    'smta tenancy: members see their organizations'' rows / SELECT',
    'smta tenancy: members update their organizations'' rows / UPDATE'],
  'four policies, named as sentences with the tenancy prefix: select, insert, update, delete');
select is_empty(
  $$select policyname from pg_policies where schemaname = 'app' and tablename = 'projects' and roles <> '{app_user}'$$,
  'every policy applies to app_user (which authenticated holds)');
select is_empty(
  $$select policyname from pg_policies where schemaname = 'app' and tablename = 'projects' and permissive <> 'PERMISSIVE'$$,
  'the policies are permissive');
select ok(
  (select bool_and(coalesce(qual, with_check) like '%organization_id = ANY (( SELECT core.current_user_org_ids()%'
                   and coalesce(with_check, qual) like '%organization_id = ANY (( SELECT core.current_user_org_ids()%')
   from pg_policies where schemaname = 'app' and tablename = 'projects'),
  'every policy compares organization_id with the caller''s organizations, computed once per statement');
select is(
  (select with_check from pg_policies where schemaname = 'app' and tablename = 'projects' and cmd = 'UPDATE'),
  (select qual from pg_policies where schemaname = 'app' and tablename = 'projects' and cmd = 'UPDATE'),
  'the update policy checks the new row as it checks the old one (WITH CHECK)');
select is(
  (select obj_description(p.oid, 'pg_policy') from pg_policy p
   where p.polrelid = 'app.projects'::regclass and p.polcmd = 'r'),
  'Created by core.enable_tenancy (organization column organization_id); removed by core.disable_tenancy.',
  'each policy is commented with the columns it was built for');

-- Index
select is(
  array(select pg_get_indexdef(i.indexrelid) from pg_index i
        where i.indrelid = 'app.projects'::regclass and not i.indisprimary),
  array['CREATE INDEX projects_organization_id_idx ON app.projects USING btree (organization_id)'],
  'a btree index on organization_id was created');
select is(
  (select obj_description('app.projects_organization_id_idx'::regclass, 'pg_class')),
  'Created by core.enable_tenancy for its policies; removed by core.disable_tenancy.',
  'the index says who created it');

-- Privileges
select table_privs_are('app', 'projects', 'app_user', array['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  'app_user may select, insert, update and delete (rows the policies allow)');
select ok(
  not has_table_privilege('authenticated', 'app.projects', 'TRUNCATE')
  and not has_table_privilege('authenticated', 'app.projects', 'TRIGGER')
  and not has_table_privilege('authenticated', 'app.projects', 'REFERENCES')
  and not has_table_privilege('anon', 'app.projects', 'TRUNCATE'),
  'nobody at runtime holds TRUNCATE, TRIGGER or REFERENCES, which bypass row-level security');
select ok(has_schema_privilege('app_user', 'app', 'USAGE'), 'app_user may use the table''s schema');

-- Audit
select trigger_is('app', 'projects', 'smta_tenancy_audit', 'core', 'audit_row_change',
  'the audit trigger calls core.audit_row_change');
select is(
  (select pg_get_triggerdef(t.oid) from pg_trigger t where t.tgrelid = 'app.projects'::regclass and t.tgname = 'smta_tenancy_audit'),
  'CREATE TRIGGER smta_tenancy_audit AFTER INSERT OR DELETE OR UPDATE ON app.projects FOR EACH ROW EXECUTE FUNCTION core.audit_row_change(''organization_id'', '''')',
  'it runs after every insert, update and delete, row by row, with the organization column');

-- A soft-deleted, unit-scoped table with a serial id
select lives_ok($$select core.enable_tenancy('app.notes', 'org_id', 'unit_id')$$,
  'enable_tenancy accepts other column names and a unit column');
select is(
  array(select cmd from pg_policies where schemaname = 'app' and tablename = 'notes' order by 1),
  array['INSERT', 'SELECT', 'UPDATE'],
  'a soft-deleted table (deleted_at / is_deleted) gets no DELETE policy');
select table_privs_are('app', 'notes', 'app_user', array['SELECT', 'INSERT', 'UPDATE'],
  'and app_user gets no DELETE on it');
select ok(has_sequence_privilege('app_user', 'app.notes_id_seq', 'USAGE'),
  'app_user may use the sequence of the serial id');
select ok(
  (select bool_and(qual like '%unit_id = ANY (( SELECT core.current_user_unit_ids()%'
                   and qual like '%org_id = ANY (( SELECT core.current_user_managed_org_ids()%')
   from pg_policies where schemaname = 'app' and tablename = 'notes' and qual is not null),
  'the unit-scoped policies admit unit members and the organization''s managers, through once-per-statement helpers');
select ok(
  (select bool_and(with_check like '%EXISTS ( SELECT 1%FROM core.units tenancy_unit%notes.unit_id%notes.org_id%')
   from pg_policies where schemaname = 'app' and tablename = 'notes' and with_check is not null),
  'written rows must carry a unit of their own organization');
select is(
  array(select pg_get_indexdef(i.indexrelid) from pg_index i
        where i.indrelid = 'app.notes'::regclass and not i.indisprimary order by 1),
  array['CREATE INDEX notes_org_id_idx ON app.notes USING btree (org_id)',
        'CREATE INDEX notes_unit_id_idx ON app.notes USING btree (unit_id)'],
  'indexes on the organization and unit columns were created');

-- An existing index leading with the organization column is reused
select lives_ok($$select core.enable_tenancy('app.tasks')$$, 'enable_tenancy accepts a table with its own index');
select is(
  array(select indexrelid::regclass::text from pg_index where indrelid = 'app.tasks'::regclass and not indisprimary),
  array['app.tasks_by_org_and_time'],
  'no index is added when one already leads with the organization column');

-- Who may call it
select tests.authenticate_as(tests.create_user('tenancy.caller@smta.test'));
select tests.refused(format('select core.enable_tenancy(%s::oid::regclass)', 'app.tasks'::regclass::oid),
  'an authenticated user may not call enable_tenancy', '{42501}');
select tests.authenticate_service_role();
select tests.allowed(format('select core.enable_tenancy(%s::oid::regclass), core.disable_tenancy(%s::oid::regclass)',
                            'app.tasks'::regclass::oid, 'app.tasks'::regclass::oid),
  'the service role (app_admin) may call enable_tenancy and disable_tenancy');
select tests.reset_identity();

select * from finish();
rollback;
