-- Team roles that count: get_user_permissions(org, unit) answers with the caller's effective
-- role in the unit — the higher of their organization role and their unit role (own, or
-- inherited from the nearest unit above), the unit role on a tie — through nested units; no row
-- for a unit the caller does not reach; get_user_permissions(org) and get_user_unit_permissions
-- keep their SMTA 0.8 answers.
begin;
select plan(17);
select tests.world();
select tests.remember('child', tests.create_unit(tests.id('org_a'), 'Unit A1 child', tests.id('unit_a1')));
select tests.remember('grandchild', tests.create_unit(tests.id('org_a'), 'Unit A1 grandchild', tests.id('child')));
select tests.remember('lead', tests.create_user('lead@smta.test'));
select tests.add_member(tests.id('org_a'), tests.id('lead'), 'team');
select tests.add_unit_member(tests.id('unit_a1'), tests.id('lead'), 'manager');
select tests.add_unit_member(tests.id('grandchild'), tests.id('lead'), 'team');
select tests.add_unit_member(tests.id('child'), tests.id('manager_a'), 'team');
with r as (insert into core.roles (name, organization_id, casl_rules) values ('reviewer', tests.id('org_a'), '[{"action": "review", "subject": "File"}]') returning id)
select tests.remember('reviewer', (select id from r));
select tests.reset_identity();
insert into core.unit_memberships (user_id, unit_id, role_id) values (tests.id('loner_a'), tests.id('unit_a2'), tests.id('reviewer'));

create function pg_temp.role_in(p_user text, p_unit text) returns text
language plpgsql as $$
declare
  v_role text;
begin
  perform tests.authenticate_as(tests.id(p_user));
  select role_name into v_role from public.get_user_permissions(tests.id('org_a'), tests.id(p_unit));
  perform tests.reset_identity();
  return coalesce(v_role, '(none)');
end
$$;

-- A team member who manages a unit: manager there and below, until their own membership.
select is(pg_temp.role_in('lead', 'unit_a1'), 'manager', 'a team member who is a unit''s manager is a manager in that unit');
select is(pg_temp.role_in('lead', 'child'), 'manager', 'and in the unit below it (inherited)');
select is(pg_temp.role_in('lead', 'grandchild'), 'team', 'their own membership further down counts there instead');
select is(pg_temp.role_in('lead', 'unit_a2'), '(none)', 'a unit outside their reach gets no row');
select tests.authenticate_as(tests.id('lead'));
select is((select role_name from public.get_user_permissions(tests.id('org_a'))), 'team', 'their organization role is unchanged');
select is((select role_name from public.get_user_unit_permissions(tests.id('child'))), 'manager',
  'get_user_unit_permissions keeps SMTA 0.8''s answer (the unit role)');
select is((select casl_rules from public.get_user_permissions(tests.id('org_a'), tests.id('child'))),
  (select casl_rules from core.roles where name = 'manager' and organization_id is null), 'with the manager''s CASL rules');
select tests.reset_identity();

-- An organization manager who is a plain member of a unit stays a manager there.
select is(pg_temp.role_in('manager_a', 'child'), 'manager', 'the higher organization role wins over a lower unit role');
select is(pg_temp.role_in('manager_a', 'unit_a2'), 'manager', 'a manager reaches every unit with their organization role');
select tests.authenticate_as(tests.id('manager_a'));
select is((select role_name from public.get_user_unit_permissions(tests.id('child'))), 'team',
  'while get_user_unit_permissions still answers the unit role');
select tests.reset_identity();

select is(pg_temp.role_in('owner_a', 'grandchild'), 'super_admin', 'the owner is super_admin in every unit');
select is(pg_temp.role_in('loner_a', 'unit_a2'), 'reviewer', 'on a tie the unit role (an organization''s own role) wins');
select is(pg_temp.role_in('loner_a', 'unit_a1'), '(none)', 'a team member reaches no unit they do not belong to');
select is(pg_temp.role_in('stranger', 'unit_a1'), '(none)', 'an outsider gets nothing');

-- A unit of another organization is not a unit of this one.
select tests.authenticate_as(tests.id('owner_a'));
select is((select count(*) from public.get_user_permissions(tests.id('org_a'), tests.id('unit_b1'))), 0::bigint,
  'a unit of another organization gets no row');
select tests.reset_identity();

-- An expired unit membership no longer counts, inherited or not.
update core.unit_memberships set expires_at = now() - interval '1 second'
  where user_id = tests.id('lead') and unit_id = tests.id('unit_a1');
select is(pg_temp.role_in('lead', 'child'), '(none)', 'an expired unit membership gives no role below it');
select is(pg_temp.role_in('lead', 'grandchild'), 'team', 'their own live membership still does');

select * from finish();
rollback;
