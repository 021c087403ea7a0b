-- Every SECURITY DEFINER function of the schema pins its search_path, to the empty path the
-- conventions require (Schema/README.md), so no caller-controlled schema can shadow a name the
-- function resolves with its owner's rights.
begin;
select plan(3);

select cmp_ok(
  (select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('core', 'platform', 'utils', 'public') and p.prosecdef),
  '>=', 40,
  'the schema has SECURITY DEFINER functions to check (the checks below are not vacuous)');

select is_empty(
  $$select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('core', 'platform', 'utils', 'public', 'app', 'auth') and p.prosecdef
      and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')
      and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')$$,
  'every SECURITY DEFINER function in core, platform, utils, public, app and auth pins its search_path');

select is_empty(
  $$select p.oid::regprocedure::text || ' ' || array_to_string(p.proconfig, ',')
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('core', 'platform', 'utils', 'public', 'app', 'auth') and p.prosecdef
      and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
      and not ('search_path=""' = any (coalesce(p.proconfig, '{}')))$$,
  'every SECURITY DEFINER function pins search_path to the empty path');

select * from finish();
rollback;
