-- Unit members: add_member_to_unit, update_unit_member_role, remove_member_from_unit,
-- assign_user_to_unit, remove_user_from_unit, list_unit_members, get_user_unit_permissions —
-- only members of the unit's organization can be unit members; the super_admin manages them;
-- team members and outsiders are refused and change nothing; removal is a soft delete and a
-- removed unit member can be added again.
begin;
select plan(24);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));
select tests.remember('super_admin_role', tests.role_id('super_admin'));

select tests.authenticate_as(tests.id('team_a'));
select bag_eq(format('select user_id from public.list_unit_members(%L)', tests.id('unit_a1')),
  format('values (%L::uuid), (%L::uuid), (%L::uuid), (%L::uuid)', tests.id('owner_a'), tests.id('manager_a'), tests.id('team_a'), tests.id('member_a')),
  'list_unit_members lists the unit''s members to a member of the organization');
select results_eq(format('select role_name, casl_rules from public.get_user_unit_permissions(%L)', tests.id('unit_a1')),
  $$select name, casl_rules from core.roles where name = 'team'$$,
  'get_user_unit_permissions gives the caller''s unit role and its CASL rules');
select tests.sees_nothing(format('select count(*) from public.list_unit_members(%L)', tests.id('unit_b1')),
  'an outsider sees no members of another organization''s unit');
select tests.sees_nothing(format('select count(*) from public.get_user_unit_permissions(%L)', tests.id('unit_b1')),
  'an outsider has no permissions in another organization''s unit');
select tests.refused(format('select public.add_member_to_unit(%L, %L, %L)', tests.id('unit_a2'), tests.id('loner_a'), tests.id('team_role')),
  'a team member may not add unit members', '{42501}');
select tests.refused(format('select public.assign_user_to_unit(%L, %L, %L)', tests.id('loner_a'), tests.id('unit_a2'), tests.id('team_role')),
  'a team member may not assign users to units', '{42501}');
select tests.refused(format('select public.update_unit_member_role(%L, %L, %L)', tests.id('unit_a1'), tests.id('team_a'), tests.id('manager_role')),
  'a team member may not change unit roles, not even their own', '{42501}');
select is(tests.unit_membership_role(tests.id('unit_a1'), tests.id('team_a')), 'team', 'the refused self-promotion changed nothing');

select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.add_member_to_unit(%L, %L, %L)', tests.id('unit_a2'), tests.id('loner_a'), tests.id('team_role')),
  'the super_admin adds an organization member to a unit');
select is(tests.unit_membership_role(tests.id('unit_a2'), tests.id('loner_a')), 'team', 'the unit membership is live with its role');
select tests.refused(format('select public.add_member_to_unit(%L, %L, %L)', tests.id('unit_a2'), tests.id('loner_a'), tests.id('team_role')),
  'adding a live unit member again is refused as a duplicate', '{23505}');
select tests.refused(format('select public.add_member_to_unit(%L, %L, %L)', tests.id('unit_a2'), tests.id('stranger'), tests.id('team_role')),
  'a user outside the organization cannot join its unit', '{P0001,22023,P0002,42501}');
select tests.refused(format('select public.assign_user_to_unit(%L, %L, %L)', tests.id('owner_b'), tests.id('unit_a2'), tests.id('team_role')),
  'assign_user_to_unit refuses a member of another organization', '{P0001,22023,P0002,42501}');
select is(tests.unit_membership_state(tests.id('unit_a2'), tests.id('owner_b')), 'none', 'the refused assignment added nobody');
select tests.refused(format('select public.add_member_to_unit(%L, %L, %L)', tests.id('unit_a2'), tests.id('member_a'), tests.id('super_admin_role')),
  'nobody gets the super_admin role in a unit', '{42501,22023,P0001}');
select lives_ok(format('select public.update_unit_member_role(%L, %L, %L)', tests.id('unit_a2'), tests.id('loner_a'), tests.id('manager_role')),
  'the super_admin changes a unit member''s role');
select is(tests.unit_membership_role(tests.id('unit_a2'), tests.id('loner_a')), 'manager', 'the new unit role is stored');
select lives_ok(format('select public.remove_member_from_unit(%L, %L)', tests.id('unit_a2'), tests.id('loner_a')),
  'the super_admin removes a unit member');
select is(tests.unit_membership_state(tests.id('unit_a2'), tests.id('loner_a')), 'deleted', 'the unit membership is soft-deleted');
select lives_ok(format('select public.assign_user_to_unit(%L, %L, %L)', tests.id('loner_a'), tests.id('unit_a2'), tests.id('team_role')),
  'assign_user_to_unit adds the removed member back');
select is(tests.unit_membership_role(tests.id('unit_a2'), tests.id('loner_a')), 'team', 'the re-added unit membership is live with the new role');
select lives_ok(format('select public.remove_user_from_unit(%L, %L)', tests.id('loner_a'), tests.id('unit_a2')),
  'remove_user_from_unit removes a unit member');
select is(tests.unit_membership_state(tests.id('unit_a2'), tests.id('loner_a')), 'deleted', 'remove_user_from_unit soft-deletes');

select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select public.remove_member_from_unit(%L, %L)', tests.id('unit_a1'), tests.id('member_a')),
  'an outsider may not remove a unit member');

select tests.reset_identity();
select * from finish();
rollback;
