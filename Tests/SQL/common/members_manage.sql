-- add_member_to_organization, update_member_role, remove_member_from_organization,
-- remove_user_from_organization, list_organization_members: the super_admin manages members;
-- nobody grants super_admin or edits their own membership through them; team members and
-- outsiders are refused and change nothing; removal is a soft delete.
begin;
select plan(27);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));
select tests.remember('super_admin_role', tests.role_id('super_admin'));

select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('stranger'), tests.id('team_role')),
  'the super_admin adds a user as a team member');
select is(tests.membership_state(tests.id('org_a'), tests.id('stranger')), 'live', 'the membership exists and is live');
select is(tests.membership_role(tests.id('org_a'), tests.id('stranger')), 'team', 'it has the requested role');
select ok(tests.super_admins(tests.id('org_a')) = array[tests.id('owner_a')], 'adding a member made nobody else super_admin');
select ok(exists(select 1 from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('stranger')),
  'the new member appears in list_organization_members');
select tests.refused(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('stranger'), tests.id('team_role')),
  'adding a live member again is refused as a duplicate', '{23505}');
select tests.refused(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('owner_b'), tests.id('super_admin_role')),
  'nobody is added with the super_admin role', '{42501,22023,P0001}');
select is(tests.membership_state(tests.id('org_a'), tests.id('owner_b')), 'none', 'the refused super_admin grant added no membership');
select tests.refused(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), gen_random_uuid(), tests.id('team_role')),
  'a user that does not exist is refused', '{P0002,22023}');
select tests.refused(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('owner_b'), gen_random_uuid()),
  'a role that does not exist is refused', '{P0002,22023}');

select lives_ok(format('select public.update_member_role(%L, %L, %L)', tests.id('org_a'), tests.id('team_a'), tests.id('manager_role')),
  'the super_admin promotes a team member to manager');
select is(tests.membership_role(tests.id('org_a'), tests.id('team_a')), 'manager', 'the new role is stored');
select tests.refused(format('select public.update_member_role(%L, %L, %L)', tests.id('org_a'), tests.id('team_a'), tests.id('super_admin_role')),
  'update_member_role never grants super_admin', '{42501,22023,P0001}');
select tests.refused(format('select public.update_member_role(%L, %L, %L)', tests.id('org_a'), tests.id('owner_a'), tests.id('team_role')),
  'the super_admin does not change their own membership through update_member_role', '{42501,22023,P0001}');
select is(tests.super_admins(tests.id('org_a')), array[tests.id('owner_a')], 'the super_admin is still the only super_admin');
select tests.refused(format('select public.update_member_role(%L, %L, %L)', tests.id('org_a'), tests.id('owner_b'), tests.id('team_role')),
  'updating a user who is not a member is refused', '{P0002,22023}');

select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('owner_b'), tests.id('team_role')),
  'a team member may not add members', '{42501}');
select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select public.update_member_role(%L, %L, %L)', tests.id('org_a'), tests.id('member_a'), tests.id('manager_role')),
  'an outsider may not change a member''s role');
select tests.refused(format('select public.remove_member_from_organization(%L, %L)', tests.id('org_a'), tests.id('member_a')),
  'an outsider may not remove a member');
select is(tests.membership_role(tests.id('org_a'), tests.id('member_a')), 'team', 'refused calls left member_a''s membership alone');

select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.remove_member_from_organization(%L, %L)', tests.id('org_a'), tests.id('member_a')),
  'the super_admin removes a member');
select is(tests.membership_state(tests.id('org_a'), tests.id('member_a')), 'deleted', 'the membership is soft-deleted, not removed');
select is_empty(format('select 1 from public.list_organization_members(%L) where user_id = %L', tests.id('org_a'), tests.id('member_a')),
  'the removed member is gone from list_organization_members');
select tests.refused(format('select public.remove_member_from_organization(%L, %L)', tests.id('org_a'), tests.id('owner_a')),
  'the super_admin cannot be removed', '{42501,P0001}');
select lives_ok(format('select public.remove_user_from_organization(%L, %L)', tests.id('loner_a'), tests.id('org_a')),
  'remove_user_from_organization removes a member');
select is(tests.membership_state(tests.id('org_a'), tests.id('loner_a')), 'deleted', 'remove_user_from_organization soft-deletes');
select tests.refused(format('select public.remove_user_from_organization(%L, %L)', tests.id('owner_b'), tests.id('org_a')),
  'removing a user who is not a member is refused', '{P0002}');

select tests.reset_identity();
select * from finish();
rollback;
