-- Defect 7 (any member could write memberships directly, so a direct SQL client could change
-- its own role or make itself super_admin): by direct SQL as authenticated, nobody sets
-- is_super_admin and nobody changes their own membership; only the organization's super_admin
-- writes others' memberships (not managers: the API does not let them either, issue 10);
-- outsiders write nothing. The super_admin *role* (not the flag) may be given to another
-- member by a direct write of the organization's super_admin only (SMTA 0.8's own suite does
-- it): not by a manager, not by a team member; the API (update_member_role) gives it to
-- nobody. Every refusal is checked on the rows that must not have changed.
begin;
select plan(32);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));
select tests.remember('super_admin_role', tests.role_id('super_admin'));

-- A team member, on their own membership.
select tests.authenticate_as(tests.id('team_a'));
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L', tests.id('manager_role'), tests.id('team_a')),
  'a team member cannot promote themselves to manager');
select tests.no_change(format('update core.memberships set is_super_admin = true where user_id = %L', tests.id('team_a')),
  'a team member cannot make themselves super_admin');
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L', tests.id('super_admin_role'), tests.id('team_a')),
  'a team member cannot give themselves the super_admin role');
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L', tests.id('manager_role'), tests.id('member_a')),
  'a team member cannot change another member''s role');
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L', tests.id('super_admin_role'), tests.id('member_a')),
  'a team member cannot give another member the super_admin role');
select tests.no_change(format('update core.memberships set is_super_admin = true where user_id = %L', tests.id('member_a')),
  'a team member cannot make another member super_admin');
select tests.refused(format('insert into core.memberships (user_id, organization_id, role_id, is_super_admin) values (%L, %L, %L, false)',
                            tests.id('stranger'), tests.id('org_a'), tests.id('team_role')),
  'a team member cannot add members', '{42501}');
select tests.no_change(format('update core.unit_memberships set role_id = %L where user_id = %L', tests.id('manager_role'), tests.id('team_a')),
  'a team member cannot promote themselves in a unit');
select tests.refused(format('insert into core.unit_memberships (user_id, unit_id, role_id) values (%L, %L, %L)',
                            tests.id('team_a'), tests.id('unit_a2'), tests.id('manager_role')),
  'a team member cannot add themselves to a unit', '{42501}');
select is(tests.membership_role(tests.id('org_a'), tests.id('team_a')), 'team', 'team_a''s membership still has role team');
select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')], 'the owner is still the only super_admin');

-- A manager, on their own membership and on escalation.
select tests.authenticate_as(tests.id('manager_a'));
select tests.no_change(format('update core.memberships set is_super_admin = true where user_id = %L', tests.id('manager_a')),
  'a manager cannot make themselves super_admin');
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L', tests.id('super_admin_role'), tests.id('manager_a')),
  'a manager cannot give themselves the super_admin role');
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L', tests.id('team_role'), tests.id('manager_a')),
  'a manager cannot change their own membership, even downwards');
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L', tests.id('super_admin_role'), tests.id('member_a')),
  'a manager cannot grant the super_admin role to another member');
select tests.no_change(format('update core.memberships set is_super_admin = false where user_id = %L', tests.id('owner_a')),
  'a manager cannot strip the super_admin flag');
select tests.refused(format('insert into core.memberships (user_id, organization_id, role_id, is_super_admin) values (%L, %L, %L, true)',
                            tests.id('stranger'), tests.id('org_a'), tests.id('team_role')),
  'a manager cannot insert a super_admin membership', '{42501,23505}');
select is(tests.membership_role(tests.id('org_a'), tests.id('manager_a')), 'manager', 'manager_a''s membership still has role manager');
select is(tests.membership_role(tests.id('org_a'), tests.id('member_a')), 'team', 'member_a still has role team');
select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')], 'the owner is still the only super_admin');

-- Managers run invitations and unit memberships; memberships themselves are the super_admin's,
-- directly as through the API (add_member_to_organization, update_member_role).
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L and organization_id = %L',
                              tests.id('manager_role'), tests.id('member_a'), tests.id('org_a')),
  'a manager cannot change another member''s role directly');
select is(tests.membership_role(tests.id('org_a'), tests.id('member_a')), 'team', 'member_a is still team');
select tests.refused(format('insert into core.memberships (user_id, organization_id, role_id, is_super_admin) values (%L, %L, %L, false)',
                            tests.id('stranger'), tests.id('org_a'), tests.id('team_role')),
  'a manager cannot add a member directly', '{42501}');

-- The super_admin cannot hand out the flag by SQL either: only transfer_super_admin moves it.
select tests.authenticate_as(tests.id('owner_a'));
select tests.no_change(format('update core.memberships set is_super_admin = true where user_id = %L', tests.id('manager_a')),
  'the super_admin cannot make a second super_admin by SQL');
select tests.refused(format('insert into core.memberships (user_id, organization_id, role_id, is_super_admin) values (%L, %L, %L, true)',
                            tests.id('loner_b'), tests.id('org_a'), tests.id('team_role')),
  'the super_admin cannot insert a second super_admin membership', '{42501,23505}');
select tests.no_change(format('update core.memberships set is_super_admin = false where user_id = %L', tests.id('owner_a')),
  'the super_admin cannot drop their own flag by SQL');

-- ... but the super_admin may give another member the super_admin role, and only the role.
select lives_ok(format('update core.memberships set role_id = %L where user_id = %L and organization_id = %L',
                       tests.id('super_admin_role'), tests.id('manager_a'), tests.id('org_a')),
  'the super_admin may give another member the super_admin role by a direct write');
select is(tests.membership_role(tests.id('org_a'), tests.id('manager_a')), 'super_admin', 'the role is stored');
select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')],
  'the flag did not move: the owner is still the only super_admin');
select tests.refused(format('select public.update_member_role(%L, %L, %L)', tests.id('org_a'), tests.id('member_a'), tests.id('super_admin_role')),
  'the API gives the super_admin role to nobody, not even at the super_admin''s request', '{42501}');

-- Outsiders write nothing.
select tests.authenticate_as(tests.id('owner_b'));
select tests.no_change(format('update core.memberships set role_id = %L where organization_id = %L', tests.id('team_role'), tests.id('org_a')),
  'another organization''s super_admin cannot update org A''s memberships');
select tests.refused(format('insert into core.memberships (user_id, organization_id, role_id, is_super_admin) values (%L, %L, %L, false)',
                            tests.id('owner_b'), tests.id('org_a'), tests.id('manager_role')),
  'an outsider cannot add themselves to org A', '{42501}');

select tests.reset_identity();
select * from finish();
rollback;
