-- Defect 8 (policies called membership helpers with row-dependent arguments, so they ran once
-- per row): no core policy calls a membership helper on a column, and reading hundreds of rows
-- through the policies calls the schema's functions a constant number of times, not once per
-- row (counted by PostgreSQL's own function statistics for this transaction).
begin;
select plan(10);
select tests.world();

select is_empty(
  $$select schemaname || '.' || tablename || ': ' || policyname from pg_policies
    where schemaname in ('core', 'platform')
      and coalesce(qual, '') || ' ' || coalesce(with_check, '') ~
          'core\.(is_super_admin|is_org_member|is_unit_member|is_org_super_admin_for_unit|is_org_member_for_unit|get_org_role|get_org_id_for_unit|has_org_role|has_unit_role|shares_organization)\('$$,
  'no core or platform policy calls a per-row membership helper');

-- 300 rows in each table the policies guard.
select tests.remember('bulk', tests.create_org(tests.id('owner_a'), 'Bulk'));
insert into core.units (organization_id, name) select tests.id('bulk'), 'Unit ' || g from generate_series(1, 300) g;
insert into core.organization_files (organization_id, file_url, file_type)
  select tests.id('bulk'), 'https://files.example.test/' || g, 'text/plain' from generate_series(1, 300) g;
insert into core.users_meta (id, email) select gen_random_uuid(), 'bulk' || g || '@smta.test' from generate_series(1, 300) g;
insert into core.memberships (user_id, organization_id, role_id, is_super_admin)
  select um.id, tests.id('bulk'), tests.role_id('team'), false from core.users_meta um where um.email like 'bulk%@smta.test';
insert into core.unit_memberships (user_id, unit_id, role_id)
  select m.user_id, (select u.id from core.units u where u.organization_id = tests.id('bulk') limit 1), tests.role_id('team')
  from core.memberships m where m.organization_id = tests.id('bulk') and not m.is_super_admin;
insert into core.invitations (email, organization_id, role_id, invited_by, token, expires_at, status)
  select 'invitee' || g || '@smta.test', tests.id('bulk'), tests.role_id('team'), tests.id('owner_a'),
         encode(sha256(convert_to('bulk token ' || g, 'UTF8')), 'hex'), now() + interval '7 days', 'pending'
  from generate_series(1, 300) g;

-- Calls of the schema's functions made by one statement, as the given user.
create function pg_temp.calls_for(p_user uuid, p_sql text) returns bigint
language plpgsql as $$
declare
  v_before bigint;
  v_after bigint;
  v_rows bigint;
begin
  select coalesce(sum(calls), 0) into v_before from pg_stat_xact_user_functions where schemaname in ('core', 'utils', 'platform');
  perform tests.authenticate_as(p_user);
  execute p_sql into v_rows;
  perform tests.reset_identity();
  if v_rows < 300 then
    raise exception 'the statement saw only % rows', v_rows;
  end if;
  select coalesce(sum(calls), 0) into v_after from pg_stat_xact_user_functions where schemaname in ('core', 'utils', 'platform');
  return v_after - v_before;
end
$$;
set local track_functions = 'all';

select cmp_ok(pg_temp.calls_for(tests.id('owner_a'), 'select count(*) from core.units'), '<', 20::bigint,
  'counting 300 units calls the schema''s functions a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('owner_a'), 'select count(*) from core.unit_meta'), '<', 20::bigint,
  'counting 300 unit_meta rows calls them a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('owner_a'), 'select count(*) from core.organization_files'), '<', 20::bigint,
  'counting 300 files calls them a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('owner_a'), 'select count(*) from core.memberships'), '<', 20::bigint,
  'counting 300 memberships calls them a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('owner_a'), 'select count(*) from core.unit_memberships'), '<', 20::bigint,
  'counting 300 unit memberships calls them a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('owner_a'), 'select count(*) from core.invitations'), '<', 20::bigint,
  'counting 300 invitations calls them a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('owner_a'), 'select count(*) from core.users_meta'), '<', 20::bigint,
  'counting 300 colleagues'' profiles calls them a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('owner_a'), 'select count(*) from core.audit_logs'), '<', 20::bigint,
  'counting the audit log calls them a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('owner_a'), 'select count(*) from core.organizations, generate_series(1, 300)'), '<', 20::bigint,
  'a statement reading the organization 300 times calls them a handful of times');

select * from finish();
rollback;
