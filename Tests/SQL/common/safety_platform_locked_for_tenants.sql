-- The platform schema is the SaaS operator's: tenants (authenticated, even an organization's
-- super_admin) and anon get no USAGE, no table privilege, and every platform function refuses
-- them with 42501; the service role reaches it. Calls generated from the catalogue.
begin;

create temporary view platform_functions as
select p.oid,
       p.oid::regprocedure::text as signature,
       tests.sample_call(p.oid) as call
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname = 'platform'
  and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e');
grant select on platform_functions to public;

select plan(6 + 2 * (select count(*)::int from platform_functions));

select tests.world();

select ok(not has_schema_privilege('authenticated', 'platform', 'USAGE'),
  'authenticated has no USAGE on schema platform');
select ok(not has_schema_privilege('anon', 'platform', 'USAGE'),
  'anon has no USAGE on schema platform');
select is_empty(
  $$select c.relname || ' ' || priv from pg_class c join pg_namespace n on n.oid = c.relnamespace,
         unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) priv
    where n.nspname = 'platform' and c.relkind in ('r', 'p')
      and (has_table_privilege('authenticated', c.oid, priv) or has_table_privilege('app_user', c.oid, priv))$$,
  'authenticated and app_user hold no privilege on any platform table');
select ok(has_schema_privilege('service_role', 'platform', 'USAGE'),
  'service_role has USAGE on schema platform');
select ok(has_table_privilege('service_role', 'platform.billing_subscriptions', 'SELECT'),
  'service_role can read platform tables');

select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(f.call, format('an organization super_admin is refused %s', f.signature), '{42501}')
from platform_functions f order by f.signature;

select tests.authenticate_anon();
select tests.refused(f.call, format('anon is refused %s', f.signature), '{42501}')
from platform_functions f order by f.signature;

select tests.authenticate_service_role();
select lives_ok('select count(*) from platform.platform_settings',
  'the service role reads platform tables directly');

select tests.reset_identity();
select * from finish();
rollback;
