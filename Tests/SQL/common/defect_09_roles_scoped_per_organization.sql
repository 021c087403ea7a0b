-- Defect 9 (roles are global although documented as per organization) and our create_role /
-- list_roles: the super_admin creates a role scoped to their organization; its members list it
-- with the global roles; other organizations neither see nor use it; role names stay globally
-- unique (a duplicate is 23505).
begin;
select plan(19);
select tests.world();

select tests.authenticate_as(tests.id('owner_a'));
select results_eq(
  format($$select organization_id, name, description, casl_rules
           from public.create_role(%L, 'chef_a', 'Chef', '[{"action": "read", "subject": "Menu"}]')$$, tests.id('org_a')),
  format($$values (%L::uuid, 'chef_a', 'Chef', '[{"action": "read", "subject": "Menu"}]'::jsonb)$$, tests.id('org_a')),
  'the super_admin creates a role scoped to the organization');
select tests.reset_identity();
select tests.remember('chef_a', (select (r ->> 'id')::uuid from tests.rows('core.roles', '{"name": "chef_a"}') r));
select is(tests.row_json('core.roles', tests.id('chef_a')) ->> 'organization_id', tests.id('org_a')::text,
  'the role row carries the organization');

select tests.authenticate_as(tests.id('owner_a'));
select is((select casl_rules from public.create_role(tests.id('org_a'), 'waiter_a')), '[]'::jsonb,
  'casl_rules default to an empty rule list');
select tests.refused(format($$select count(*) from public.create_role(%L, 'chef_a')$$, tests.id('org_a')),
  'a duplicate role name is refused', '{23505}');
select tests.refused(format($$select count(*) from public.create_role(%L, 'manager')$$, tests.id('org_a')),
  'a role may not take a global role''s name', '{23505}');
select tests.refused(format($$select count(*) from public.create_role(%L, '')$$, tests.id('org_a')),
  'an empty role name is refused', '{22023}');

select tests.authenticate_as(tests.id('team_a'));
select bag_eq(
  format('select name from public.list_roles(%L)', tests.id('org_a')),
  $$values ('super_admin'), ('manager'), ('team'), ('chef_a'), ('waiter_a')$$,
  'members list the global roles and their organization''s roles');
select tests.refused(format($$select count(*) from public.create_role(%L, 'by_team')$$, tests.id('org_a')),
  'a team member may not create roles', '{42501}');
select tests.authenticate_as(tests.id('manager_a'));
select tests.refused(format($$select count(*) from public.create_role(%L, 'by_manager')$$, tests.id('org_a')),
  'a manager may not create roles', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format($$select count(*) from public.create_role(%L, 'by_outsider')$$, tests.id('org_a')),
  'an outsider may not create roles in the organization');
select is_empty(format($$select 1 from public.list_roles(%L) where name = 'chef_a'$$, tests.id('org_b')),
  'another organization does not list the role');
select tests.sees_nothing(format('select count(*) from public.list_roles(%L)', tests.id('org_a')),
  'an outsider lists nothing of the organization''s roles');
select is_empty($$select 1 from core.roles where name = 'chef_a'$$,
  'an outsider cannot read the role row directly');
select tests.refused(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_b'), tests.id('stranger'), tests.id('chef_a')),
  'another organization cannot give its members the role', '{22023,P0002,42501}');
select is(tests.membership_state(tests.id('org_b'), tests.id('stranger')), 'none', 'the refused grant added nobody');
select tests.refused(format($$select count(*) from public.create_invitation('x@smta.test', %L, %L)$$, tests.id('org_b'), tests.id('chef_a')),
  'another organization cannot invite with the role', '{22023,P0002,42501}');

select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('stranger'), tests.id('chef_a')),
  'the organization gives a member its own role');
select is(tests.membership_role(tests.id('org_a'), tests.id('stranger')), 'chef_a', 'the member has the organization''s role');
select lives_ok(format($$select count(*) from public.create_invitation('cook@smta.test', %L, %L)$$, tests.id('org_a'), tests.id('chef_a')),
  'the organization invites with its own role');

select tests.reset_identity();
select * from finish();
rollback;
