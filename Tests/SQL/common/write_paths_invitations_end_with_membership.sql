-- An invitation never outlives a membership change (issue 10, item 4): adding a member, by the
-- API, a direct write or an accepted invitation, cancels the pending invitations of that email
-- to that organization, and so does removing one; nothing left behind re-admits a removed
-- member. Accepting an invitation is not disturbed by it.
begin;
select plan(16);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('manager_role', tests.role_id('manager'));
select tests.remember('x', tests.create_user('x.invited@smta.test', 'X', 'Invited'));
select tests.remember('y', tests.create_user('y.invited@smta.test', 'Y', 'Invited'));
select tests.remember('z', tests.create_user('z.invited@smta.test', 'Z', 'Invited'));

-- X is invited as manager, then added directly through the API, then removed.
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.x_token', (select token from public.create_invitation('x.invited@smta.test', tests.id('org_a'), tests.id('manager_role'))), true);
select lives_ok(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('x'), tests.id('team_role')),
  'the owner adds X directly');
select is((select j ->> 'status' from tests.rows('core.invitations', '{"email": "x.invited@smta.test"}') j), 'cancelled',
  'adding X cancelled X''s pending invitation');
select lives_ok(format('select public.remove_member_from_organization(%L, %L)', tests.id('org_a'), tests.id('x')),
  'the owner removes X');
select tests.authenticate_as(tests.id('x'), 'x.invited@smta.test');
select throws_ok(format('select * from public.accept_invitation(%L)', current_setting('tests.x_token')),
  'P0001', 'This invitation has already been cancelled', 'X cannot come back with the old token');
select is(tests.membership_state(tests.id('org_a'), tests.id('x')), 'deleted', 'X is still removed');
select is((select r.name from tests.rows('core.memberships', jsonb_build_object('user_id', tests.id('x'))) m
           join core.roles r on r.id = (m ->> 'role_id')::uuid), 'team',
  'and never held the invitation''s manager role');

-- Y, already the owner's colleague in org C, is invited, then added by the owner's direct
-- INSERT (which adds colleagues only).
select tests.add_member(tests.create_org(tests.id('owner_a'), 'Org C'), tests.id('y'));
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select * from public.create_invitation(%L, %L, %L)', 'y.invited@smta.test', tests.id('org_a'), tests.id('manager_role')),
  'the owner invites Y');
select lives_ok(format('insert into core.memberships (user_id, organization_id, role_id) values (%L, %L, %L)',
                       tests.id('y'), tests.id('org_a'), tests.id('team_role')),
  'the owner adds Y by a direct INSERT');
select is((select j ->> 'status' from tests.rows('core.invitations', '{"email": "y.invited@smta.test"}') j), 'cancelled',
  'the direct INSERT cancelled Y''s pending invitation too');

-- A pending invitation addressed to a member's email (an operator wrote it) ends when they
-- are removed.
select tests.authenticate_service_role();
insert into core.invitations (email, organization_id, role_id, invited_by, token, expires_at, status)
values ('member.a@smta.test', tests.id('org_a'), tests.id('manager_role'), tests.id('owner_a'), encode(sha256('operator-token-1'), 'hex'),
        now() + interval '7 days', 'pending');
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.remove_member_from_organization(%L, %L)', tests.id('org_a'), tests.id('member_a')),
  'the owner removes member A');
select is((select j ->> 'status' from tests.rows('core.invitations', '{"email": "member.a@smta.test"}') j), 'cancelled',
  'the removal cancelled the invitation addressed to them');

-- Leaving ends them as well.
select tests.authenticate_service_role();
insert into core.invitations (email, organization_id, role_id, invited_by, token, expires_at, status)
values ('loner.a@smta.test', tests.id('org_a'), tests.id('manager_role'), tests.id('owner_a'), encode(sha256('operator-token-2'), 'hex'),
        now() + interval '7 days', 'pending');
select tests.authenticate_as(tests.id('loner_a'));
select lives_ok(format('select public.leave_organization(%L)', tests.id('org_a')), 'loner A leaves');
select is((select j ->> 'status' from tests.rows('core.invitations', '{"email": "loner.a@smta.test"}') j), 'cancelled',
  'leaving cancelled the invitation addressed to them');

-- An ordinary acceptance is not disturbed: the invitation ends accepted, the member is live.
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.z_token', (select token from public.create_invitation('z.invited@smta.test', tests.id('org_a'), tests.id('team_role'))), true);
select tests.authenticate_as(tests.id('z'), 'z.invited@smta.test');
select lives_ok(format('select * from public.accept_invitation(%L)', current_setting('tests.z_token')), 'Z accepts');
select is((select j ->> 'status' from tests.rows('core.invitations', '{"email": "z.invited@smta.test"}') j), 'accepted', 'Z''s invitation is accepted, not cancelled');
select is(tests.membership_state(tests.id('org_a'), tests.id('z')), 'live', 'Z is a member');

select tests.reset_identity();
select * from finish();
rollback;
