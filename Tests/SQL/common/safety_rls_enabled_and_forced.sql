-- Every core and platform table has row-level security enabled AND forced (so even the table
-- owner's non-bypassing roles are filtered), the contract's tables all exist (the checks below
-- are not vacuous), and soft-deleted tables have no DELETE policy.
begin;
select plan(5);

select is(
  array(select t from unnest(array[
      'core.audit_logs', 'core.invitations', 'core.memberships', 'core.unit_memberships',
      'core.organization_files', 'core.organizations', 'core.organizations_meta', 'core.roles',
      'core.units', 'core.unit_meta', 'core.users_meta',
      'platform.platform_action_logs', 'platform.billing_customers',
      'platform.billing_subscriptions', 'platform.platform_feature_flags',
      'platform.platform_organizations', 'platform.platform_roles', 'platform.platform_settings',
      'platform.platform_subscription_overrides', 'platform.subscription_products',
      'platform.platform_system_events', 'platform.tenant_secrets', 'platform.platform_users'
    ]) t where to_regclass(t) is null),
  '{}'::text[],
  'every core and platform table of the contract exists');

select is_empty(
  $$select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('core', 'platform') and c.relkind in ('r', 'p') and not c.relrowsecurity$$,
  'row-level security is enabled on every core and platform table');

select is_empty(
  $$select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('core', 'platform') and c.relkind in ('r', 'p') and not c.relforcerowsecurity$$,
  'row-level security is forced on every core and platform table');

select is_empty(
  $$select p.schemaname || '.' || p.tablename || ': ' || p.policyname from pg_policies p
    where p.schemaname in ('core', 'platform') and p.cmd in ('DELETE', 'ALL')
      and exists (select 1 from information_schema.columns c
                  where c.table_schema = p.schemaname and c.table_name = p.tablename
                    and c.column_name = 'is_deleted')$$,
  'no soft-deleted table has a DELETE (or ALL) policy: rows are never deleted through RLS');

select is_empty(
  $$select n.nspname || '.' || c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in ('core', 'platform') and c.relkind in ('r', 'p')
      and (has_table_privilege('anon', c.oid, 'SELECT') or has_table_privilege('anon', c.oid, 'INSERT')
        or has_table_privilege('anon', c.oid, 'UPDATE') or has_table_privilege('anon', c.oid, 'DELETE'))$$,
  'anon holds no privilege on any core or platform table');

select * from finish();
rollback;
