-- core.enable_tenancy is idempotent (a second identical call changes nothing: same policies,
-- trigger and index, not even recreated) and declarative (a call with other arguments leaves
-- the table as those describe); core.disable_tenancy removes exactly what it added and leaves
-- the table closed (RLS still forced), the application's own policy and index in place.
begin;
select plan(19);

create table app.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  unit_id uuid,
  name text not null
);
create index projects_by_name on app.projects (name);
-- The application's own policy, which tenancy must leave alone.
alter table app.projects enable row level security;
create policy "service desk reads everything" on app.projects for select to service_role using (true);

-- Everything tenancy touches on the table, with object ids: equal fingerprints mean nothing was
-- dropped, created or changed.
create function pg_temp.fingerprint() returns text
language sql as $$
  select concat_ws(' | ',
    (select string_agg(concat_ws(':', p.oid, p.polname, p.polcmd, p.polroles::text,
                                 pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid),
                                 obj_description(p.oid, 'pg_policy')), ', ' order by p.polname)
     from pg_policy p where p.polrelid = 'app.projects'::regclass),
    (select string_agg(concat_ws(':', t.oid, pg_get_triggerdef(t.oid)), ', ' order by t.tgname)
     from pg_trigger t where t.tgrelid = 'app.projects'::regclass),
    (select string_agg(concat_ws(':', i.indexrelid, pg_get_indexdef(i.indexrelid)), ', ' order by i.indexrelid::regclass::text)
     from pg_index i where i.indrelid = 'app.projects'::regclass),
    (select concat_ws(':', relrowsecurity, relforcerowsecurity, relacl::text) from pg_class where oid = 'app.projects'::regclass))
$$;

select core.enable_tenancy('app.projects');
select set_config('tests.fingerprint', pg_temp.fingerprint(), true);

select lives_ok($$select core.enable_tenancy('app.projects')$$, 'a second identical call succeeds');
select is(pg_temp.fingerprint(), current_setting('tests.fingerprint'),
  'and changes nothing: the same policies, trigger, indexes and privileges, with the same object ids');
select is((select count(*)::int from pg_policy where polrelid = 'app.projects'::regclass and polname like 'smta tenancy: %'), 4,
  'no duplicate policy');
select is((select count(*)::int from pg_trigger where tgrelid = 'app.projects'::regclass), 1, 'no duplicate trigger');
select is((select count(*)::int from pg_index where indrelid = 'app.projects'::regclass), 3,
  'no duplicate index (key, the application''s, tenancy''s)');

-- Other arguments: the table ends up as they describe.
select core.enable_tenancy('app.projects', p_audit => false);
select is((select count(*)::int from pg_trigger where tgrelid = 'app.projects'::regclass), 0,
  'enable_tenancy(..., p_audit => false) removes the audit trigger');
select core.enable_tenancy('app.projects', p_unit_column => 'unit_id');
select ok(
  (select bool_and(coalesce(qual, with_check) like '%unit_id%') from pg_policies where schemaname = 'app' and tablename = 'projects'
     and policyname like 'smta tenancy: %'),
  'adding a unit column replaces the policies with the unit-scoped ones');
select is((select count(*)::int from pg_policy where polrelid = 'app.projects'::regclass and polname like 'smta tenancy: %'), 4,
  'still four tenancy policies');
select trigger_is('app', 'projects', 'smta_tenancy_audit', 'core', 'audit_row_change',
  'p_audit defaults to true: the trigger is back');
select ok(exists (select 1 from pg_index where indrelid = 'app.projects'::regclass and indkey[0] = 3),
  'the unit column got its index');

-- disable_tenancy
select lives_ok($$select core.disable_tenancy('app.projects')$$, 'disable_tenancy succeeds');
select is(
  array(select polname::text from pg_policy where polrelid = 'app.projects'::regclass),
  array['service desk reads everything'],
  'it removes its policies and only those');
select is((select count(*)::int from pg_trigger where tgrelid = 'app.projects'::regclass), 0, 'it removes the audit trigger');
select is(
  array(select indexrelid::regclass::text from pg_index where indrelid = 'app.projects'::regclass order by 1),
  array['app.projects_by_name', 'app.projects_pkey'],
  'it removes the indexes it created and keeps the application''s');
select ok(
  not has_table_privilege('app_user', 'app.projects', 'SELECT') and not has_table_privilege('app_user', 'app.projects', 'INSERT')
  and not has_table_privilege('app_user', 'app.projects', 'UPDATE') and not has_table_privilege('app_user', 'app.projects', 'DELETE'),
  'app_user has no privilege left on the table');
select ok((select relrowsecurity and relforcerowsecurity from pg_class where oid = 'app.projects'::regclass),
  'row-level security stays enabled and forced: the table is closed, not opened');

select set_config('tests.fingerprint', pg_temp.fingerprint(), true);
select lives_ok($$select core.disable_tenancy('app.projects')$$, 'disable_tenancy on a table without tenancy succeeds');
select is(pg_temp.fingerprint(), current_setting('tests.fingerprint'), 'and changes nothing');

select core.enable_tenancy('app.projects');
select is((select count(*)::int from pg_policy where polrelid = 'app.projects'::regclass and polname like 'smta tenancy: %'), 4,
  'tenancy can be enabled again after disable_tenancy');

select * from finish();
rollback;
