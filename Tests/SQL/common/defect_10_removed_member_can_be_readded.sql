-- Defect 10 (the plain UNIQUE (user_id, organization_id) kept a removed member's row, so they
-- could never be added again): a member removed from an organization or a unit comes back
-- through every path that adds members, with one live row and the new role.
begin;
select plan(14);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));

select tests.authenticate_as(tests.id('owner_a'));
select public.remove_member_from_organization(tests.id('org_a'), tests.id('member_a'));
select is(tests.membership_state(tests.id('org_a'), tests.id('member_a')), 'deleted', 'precondition: member_a was removed');
select lives_ok(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('member_a'), tests.id('manager_role')),
  'add_member_to_organization adds the removed member again');
select is(tests.membership_role(tests.id('org_a'), tests.id('member_a')), 'manager', 'they are live again with the new role');
select is(tests.count_rows('core.memberships', jsonb_build_object('organization_id', tests.id('org_a'), 'user_id', tests.id('member_a'), 'is_deleted', false)),
  1::bigint, 'there is exactly one live membership for them');

-- Through an invitation.
select public.remove_member_from_organization(tests.id('org_a'), tests.id('loner_a'));
select set_config('tests.token', token, true)
  from public.create_invitation('loner.a@smta.test', tests.id('org_a'), tests.id('team_role'));
select tests.authenticate_as(tests.id('loner_a'));
select lives_ok(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token')),
  'a removed member accepts a new invitation');
select is(tests.membership_state(tests.id('org_a'), tests.id('loner_a')), 'live', 'the invitation brought them back');

-- After leaving.
select tests.authenticate_as(tests.id('team_a'));
select public.leave_organization(tests.id('org_a'));
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('team_a'), tests.id('team_role')),
  'a member who left is added again');
select is(tests.membership_state(tests.id('org_a'), tests.id('team_a')), 'live', 'they are live again');

-- Units, through both unit paths.
select public.remove_member_from_unit(tests.id('unit_a1'), tests.id('manager_a'));
select is(tests.unit_membership_state(tests.id('unit_a1'), tests.id('manager_a')), 'deleted', 'precondition: manager_a left unit_a1');
select lives_ok(format('select public.add_member_to_unit(%L, %L, %L)', tests.id('unit_a1'), tests.id('manager_a'), tests.id('team_role')),
  'add_member_to_unit adds the removed unit member again');
select is(tests.unit_membership_role(tests.id('unit_a1'), tests.id('manager_a')), 'team', 'they are a live unit member with the new role');
select public.remove_user_from_unit(tests.id('manager_a'), tests.id('unit_a1'));
select lives_ok(format('select public.assign_user_to_unit(%L, %L, %L)', tests.id('manager_a'), tests.id('unit_a1'), tests.id('manager_role')),
  'assign_user_to_unit adds the removed unit member again');
select is(tests.unit_membership_role(tests.id('unit_a1'), tests.id('manager_a')), 'manager', 'they are live again with that role');
select is(tests.count_rows('core.unit_memberships', jsonb_build_object('unit_id', tests.id('unit_a1'), 'user_id', tests.id('manager_a'), 'is_deleted', false)),
  1::bigint, 'there is exactly one live unit membership for them');

select tests.reset_identity();
select * from finish();
rollback;
