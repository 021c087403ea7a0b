-- core.enable_tenancy refuses, with a clear 22023 and no change, what it cannot make safe: a
-- table without the organization (or unit) column, a column that is not uuid, the same column
-- twice, no table at all, and tables that are not the application's (SMTA's schemas, public,
-- views). disable_tenancy refuses the same non-application tables.
begin;
select plan(17);

create table app.unkeyed (id uuid primary key, owner_id uuid, name text);
create table app.textual (id uuid primary key, organization_id text);
create table public.stray (id uuid primary key, organization_id uuid);
create view app.project_names as select id, owner_id as organization_id from app.unkeyed;

-- What "no change" means for app.unkeyed: no policy, no trigger, no index but the key, RLS off,
-- no privilege for app_user.
create function pg_temp.unkeyed_untouched() returns boolean
language sql as $$
  select not c.relrowsecurity and not c.relforcerowsecurity
     and not exists (select 1 from pg_policy p where p.polrelid = c.oid)
     and not exists (select 1 from pg_trigger t where t.tgrelid = c.oid)
     and (select count(*) from pg_index i where i.indrelid = c.oid) = 1
     and not has_table_privilege('app_user', c.oid, 'SELECT')
  from pg_class c where c.oid = 'app.unkeyed'::regclass
$$;

select throws_ok($$select core.enable_tenancy('app.unkeyed')$$, '22023',
  'Table app.unkeyed has no column "organization_id" to use as its organization column',
  'a table without organization_id is refused, naming the table and the column');
select ok(pg_temp.unkeyed_untouched(), 'and left untouched');

select throws_ok($$select core.enable_tenancy('app.unkeyed', 'org')$$, '22023',
  'Table app.unkeyed has no column "org" to use as its organization column',
  'a misspelt organization column is refused');
select throws_ok($$select core.enable_tenancy('app.unkeyed', 'owner_id', 'unit_id')$$, '22023',
  'Table app.unkeyed has no column "unit_id" to use as its unit column',
  'a missing unit column is refused');
select ok(pg_temp.unkeyed_untouched(), 'and the table is left untouched');

select throws_ok($$select core.enable_tenancy('app.unkeyed', 'name')$$, '22023',
  'Column "name" of app.unkeyed is of type text, not uuid: the organization column must hold organization ids',
  'a text organization column is refused');
select throws_ok($$select core.enable_tenancy('app.textual')$$, '22023',
  'Column "organization_id" of app.textual is of type text, not uuid: the organization column must hold organization ids',
  'organization_id of type text is refused');
select throws_ok($$select core.enable_tenancy('app.unkeyed', 'owner_id', 'name')$$, '22023',
  'Column "name" of app.unkeyed is of type text, not uuid: the unit column must hold unit ids',
  'a unit column that is not uuid is refused');
select throws_ok($$select core.enable_tenancy('app.unkeyed', 'owner_id', 'owner_id')$$, '22023',
  'The unit column must differ from the organization column ("owner_id")',
  'the same column as organization and unit is refused');
select throws_ok($$select core.enable_tenancy('app.unkeyed', null)$$, '22023',
  'p_org_column is required: the policies filter on the organization column',
  'a null organization column is refused');
select ok(pg_temp.unkeyed_untouched(), 'after all these refusals the table is untouched');

select throws_ok($$select core.enable_tenancy(null)$$, '22023', 'p_table is required',
  'a null table is refused');
select throws_ok($$select core.enable_tenancy('app.project_names')$$, '22023', 'app.project_names is not a table',
  'a view is refused');
select throws_ok($$select core.enable_tenancy('core.units')$$, '22023',
  'Table core.units is in schema core, which is not the application''s: tenancy is for application tables (schema app, or one of your own)',
  'an SMTA table is refused');
select throws_ok($$select core.enable_tenancy('public.stray')$$, '22023',
  'Table public.stray is in schema public, which is not the application''s: tenancy is for application tables (schema app, or one of your own)',
  'a table in public is refused (public holds functions only)');
select throws_ok($$select core.disable_tenancy('platform.platform_settings')$$, '22023',
  'Table platform.platform_settings is in schema platform, which is not the application''s: tenancy is for application tables (schema app, or one of your own)',
  'disable_tenancy refuses SMTA''s tables too');
select is(
  (select count(*)::int from pg_policies where schemaname = 'core' and tablename = 'units'),
  (select count(*)::int from pg_policies where schemaname = 'core' and tablename = 'units' and policyname not like 'smta tenancy: %'),
  'SMTA''s own tables never get tenancy policies');

select * from finish();
rollback;
