-- Nobody invites at, assigns or grants a role above their own, on any path (issue 10, items 1
-- and 2). A manager cannot rewrite memberships directly (the API leaves that to the
-- super_admin), a plain member cannot invite a second account at manager and promote
-- themselves with it, and every refusal leaves the rows it aimed at unchanged.
begin;
select plan(29);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));
select tests.remember('alt', tests.create_user('alt.team.a@smta.test', 'Alt', 'Account'));

-- Item 1: a manager rewrites roles and memberships directly.
select tests.authenticate_as(tests.id('manager_a'));
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L',
                              tests.id('manager_role'), tests.id('member_a')),
  'a manager cannot promote a member to manager by a direct UPDATE');
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L',
                              tests.id('team_role'), tests.id('team_a')),
  'a manager cannot change any role directly, even downwards');
select tests.refused(format('insert into core.memberships (user_id, organization_id, role_id) values (%L, %L, %L)',
                            tests.id('stranger'), tests.id('org_a'), tests.id('manager_role')),
  'a manager cannot add a member at manager by a direct INSERT', '{42501}');
select tests.refused(format('insert into core.memberships (user_id, organization_id, role_id) values (%L, %L, %L)',
                            tests.id('stranger'), tests.id('org_a'), tests.id('team_role')),
  'a manager cannot add a member directly at all (add_member_to_organization is the super_admin''s)', '{42501}');
select tests.refused(format('select public.add_member_to_organization(%L, %L, %L)',
                            tests.id('org_a'), tests.id('stranger'), tests.id('team_role')),
  'nor through the API', '{42501}');
select is(tests.membership_role(tests.id('org_a'), tests.id('member_a')), 'team', 'member_a is still team');
select is(tests.membership_role(tests.id('org_a'), tests.id('team_a')), 'team', 'team_a is still team');
select is(tests.membership_state(tests.id('org_a'), tests.id('stranger')), 'none', 'the stranger did not join');

-- Item 2: a plain member invites a second account at manager.
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('select count(*) from public.create_invitation(%L, %L, %L)',
                            'alt.team.a@smta.test', tests.id('org_a'), tests.id('manager_role')),
  'a team member cannot invite at manager', '{42501}');
select tests.refused(format('select public.invite_user_to_organization(%L, %L)',
                            'alt.team.a@smta.test', tests.id('manager_role')),
  'nor through the legacy invite', '{42501,P0001}');
select is(tests.count_rows('core.invitations', jsonb_build_object('email', 'alt.team.a@smta.test')), 0::bigint,
  'no invitation to the second account exists');
select tests.allowed(format('select count(*) from public.create_invitation(%L, %L, %L)',
                            'alt.team.a@smta.test', tests.id('org_a'), tests.id('team_role')),
  'a team member may invite at their own role');

-- Organization roles: members below manager give only the role they hold.
select tests.authenticate_as(tests.id('owner_a'));
select tests.remember('viewer_role', (select id from public.create_role(tests.id('org_a'), 'ceiling-viewer')));
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('select count(*) from public.create_invitation(%L, %L, %L)',
                            'alt.team.a@smta.test', tests.id('org_a'), tests.id('viewer_role')),
  'a team member cannot invite at another member-level role of the organization', '{42501}');
select tests.authenticate_as(tests.id('manager_a'));
select tests.allowed(format('select count(*) from public.create_invitation(%L, %L, %L)',
                            'alt.team.a@smta.test', tests.id('org_a'), tests.id('viewer_role')),
  'a manager may invite at an organization role');
select tests.allowed(format('select count(*) from public.create_invitation(%L, %L, %L)',
                            'alt.team.a@smta.test', tests.id('org_a'), tests.id('manager_role')),
  'a manager may invite at manager, their own role');

-- Resending hands out a working token: the ceiling applies there too.
select tests.authenticate_as(tests.id('owner_a'));
select tests.remember('manager_invitation', (select id from public.create_invitation('alt.team.a@smta.test', tests.id('org_a'), tests.id('manager_role'))));
select set_config('tests.hash_before', tests.row_json('core.invitations', tests.id('manager_invitation')) ->> 'token', true);
select tests.authenticate_as(tests.id('team_a'));
select tests.refused(format('select count(*) from public.resend_invitation(%L)', tests.id('manager_invitation')),
  'a team member cannot resend an invitation at manager (it would hand them its token)', '{42501}');
select is(tests.row_json('core.invitations', tests.id('manager_invitation')) ->> 'token', current_setting('tests.hash_before'),
  'the invitation''s token hash did not change');
select tests.authenticate_as(tests.id('manager_a'));
select tests.allowed(format('select count(*) from public.resend_invitation(%L)', tests.id('manager_invitation')),
  'a manager may resend it');

-- Unit roles: the super_admin and managers assign them, within their reach.
select tests.authenticate_as(tests.id('member_a'));
select tests.no_change(format('update core.unit_memberships set role_id = %L where user_id = %L and unit_id = %L',
                              tests.id('manager_role'), tests.id('team_a'), tests.id('unit_a1')),
  'a unit member cannot change unit roles directly');
select is(tests.unit_membership_role(tests.id('unit_a1'), tests.id('team_a')), 'team', 'team_a is still team in unit A1');
select tests.authenticate_as(tests.id('manager_a'));
select tests.allowed(format('update core.unit_memberships set role_id = %L where user_id = %L and unit_id = %L returning 1',
                            tests.id('manager_role'), tests.id('team_a'), tests.id('unit_a1')),
  'a manager may give the manager unit role directly');
select tests.allowed(format('select public.assign_user_to_unit(%L, %L, %L)', tests.id('loner_a'), tests.id('unit_a2'), tests.id('viewer_role')),
  'a manager may assign an organization role in a unit');

-- A member holding an organization role gives only that role.
select tests.add_member(tests.id('org_a'), tests.id('alt'), 'ceiling-viewer');
select tests.authenticate_as(tests.id('alt'));
select tests.refused(format('select count(*) from public.create_invitation(%L, %L, %L)',
                            'someone@smta.test', tests.id('org_a'), tests.id('team_role')),
  'a member with an organization role cannot invite at team', '{42501}');
select tests.allowed(format('select count(*) from public.create_invitation(%L, %L, %L)',
                            'someone@smta.test', tests.id('org_a'), tests.id('viewer_role')),
  'but may invite at their own role');

-- A co-administrator (the super_admin role without the flag) reaches what a manager reaches.
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('update core.memberships set role_id = %L where user_id = %L and organization_id = %L',
                       tests.role_id('super_admin'), tests.id('manager_a'), tests.id('org_a')),
  'setup: the owner makes the manager a co-administrator');
select tests.authenticate_as(tests.id('manager_a'));
select tests.no_change(format('update core.memberships set role_id = %L where user_id = %L',
                              tests.id('manager_role'), tests.id('member_a')),
  'a co-administrator does not write memberships directly either');
select tests.allowed(format('select count(*) from public.create_invitation(%L, %L, %L)',
                            'someone@smta.test', tests.id('org_a'), tests.id('manager_role')),
  'a co-administrator may invite at manager');

-- The super_admin reaches every role but the owner's.
select tests.authenticate_as(tests.id('owner_a'));
select tests.allowed(format('select public.update_member_role(%L, %L, %L)', tests.id('org_a'), tests.id('member_a'), tests.id('manager_role')),
  'the super_admin promotes through the API');
select tests.allowed(format('update core.memberships set role_id = %L where user_id = %L and organization_id = %L returning 1',
                            tests.id('manager_role'), tests.id('member_a'), tests.id('org_a')),
  'and by a direct write, which now grants exactly what the API grants');

select tests.reset_identity();
select * from finish();
rollback;
