-- The tenancy policies are the fast pattern: no membership helper is called with a row's column;
-- reading hundreds of rows calls the schema's functions a constant number of times (counted by
-- PostgreSQL's function statistics); and the policy's condition is an index condition on the
-- organization column, so a member's rows are found through the index, not by reading the table.
begin;
select plan(6);
select tests.world();

create table app.projects (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  name text not null
);
create table app.notes (
  id uuid primary key default gen_random_uuid(),
  organization_id uuid not null,
  unit_id uuid,
  body text
);
select core.enable_tenancy('app.projects');
select core.enable_tenancy('app.notes', p_unit_column => 'unit_id');
insert into app.projects (organization_id, name)
  select tests.id(case when g % 2 = 0 then 'org_a' else 'org_b' end), 'Project ' || g from generate_series(1, 600) g;
insert into app.notes (organization_id, unit_id, body)
  select tests.id('org_a'), case when g % 3 = 0 then null else tests.id('unit_a1') end, 'Note ' || g from generate_series(1, 300) g;
analyze app.projects;
analyze app.notes;

select is_empty(
  $$select tablename || ': ' || policyname from pg_policies
    where schemaname = 'app'
      and coalesce(qual, '') || ' ' || coalesce(with_check, '') ~
          'core\.(is_super_admin|is_org_member|is_unit_member|is_org_super_admin_for_unit|is_org_member_for_unit|get_org_role|get_org_id_for_unit|has_org_role|has_unit_role|shares_organization)\('$$,
  'no tenancy policy calls a per-row membership helper');

-- Calls of the schema's functions made by one statement as the given user; the statement must
-- see at least p_min_rows rows (the check is not vacuous).
create function pg_temp.calls_for(p_user uuid, p_sql text, p_min_rows bigint) returns bigint
language plpgsql as $$
declare
  v_before bigint;
  v_after bigint;
  v_rows bigint;
begin
  select coalesce(sum(calls), 0) into v_before from pg_stat_xact_user_functions where schemaname in ('core', 'utils', 'auth');
  perform tests.authenticate_as(p_user);
  execute p_sql into v_rows;
  perform tests.reset_identity();
  if v_rows < p_min_rows then
    raise exception 'the statement saw only % rows', v_rows;
  end if;
  select coalesce(sum(calls), 0) into v_after from pg_stat_xact_user_functions where schemaname in ('core', 'utils', 'auth');
  return v_after - v_before;
end
$$;
set local track_functions = 'all';

select cmp_ok(pg_temp.calls_for(tests.id('team_a'), 'select count(*) from app.projects', 300), '<', 10::bigint,
  'counting 300 rows of an organization-scoped table calls the schema''s functions a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('team_a'), 'select count(*) from app.notes', 300), '<', 20::bigint,
  'counting 300 rows of a unit-scoped table calls them a handful of times');
select cmp_ok(pg_temp.calls_for(tests.id('team_a'), 'select count(*) from app.projects, generate_series(1, 10)', 3000), '<', 10::bigint,
  'a statement reading the rows ten times over still calls them a handful of times');

-- The plan as a member, with sequential scans priced out: an index condition exists only if the
-- policy's comparison can use the index.
create function pg_temp.plan_for(p_user uuid, p_sql text) returns text
language plpgsql as $$
declare
  v_line text;
  v_plan text := '';
begin
  perform tests.authenticate_as(p_user);
  perform set_config('enable_seqscan', 'off', true);
  for v_line in execute 'explain (costs off) ' || p_sql loop
    v_plan := v_plan || v_line || E'\n';
  end loop;
  perform set_config('enable_seqscan', 'on', true);
  perform tests.reset_identity();
  return v_plan;
end
$$;

select matches(pg_temp.plan_for(tests.id('team_a'), 'select * from app.projects'),
  'Index Cond: \(organization_id = ANY \(\$0\)\)',
  'the policy is an index condition on organization_id, fed by a once-per-statement InitPlan');
select matches(pg_temp.plan_for(tests.id('team_a'), 'select * from app.notes'),
  'Index Cond: \(organization_id = ANY \(\$0\)\)',
  'the unit-scoped policy too (its unit test is a filter on the rows the index returns)');

select * from finish();
rollback;
