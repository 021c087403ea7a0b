-- accept_invitation: the invitee (the caller whose email matches, case-insensitively) accepts
-- a valid pending invitation once; it creates the membership (and the unit membership) with the
-- invited role; wrong caller, used, cancelled, expired and unknown tokens are refused and
-- create nothing.
begin;
select plan(19);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('invitee', tests.create_user('invitee@smta.test', 'In', 'Vitee'));

select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token', r.token, true), tests.remember('inv', r.id)
  from public.create_invitation('invitee@smta.test', tests.id('org_a'), tests.id('team_role'), tests.id('unit_a1')) r;

select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token')),
  'a caller with another email may not accept the invitation', '{42501,P0001}');
select is(tests.membership_state(tests.id('org_a'), tests.id('stranger')), 'none', 'the refused accept added nobody');
select is(tests.row_json('core.invitations', tests.id('inv')) ->> 'status', 'pending', 'the invitation is still pending');

select tests.authenticate_as(tests.id('invitee'));
select results_eq(
  format('select organization_id, unit_id, role_id, organization_name from public.accept_invitation(%L)', current_setting('tests.token')),
  format($$values (%L::uuid, %L::uuid, %L::uuid, 'Org A')$$, tests.id('org_a'), tests.id('unit_a1'), tests.id('team_role')),
  'the invitee accepts and learns the organization, unit and role');
select is(tests.membership_role(tests.id('org_a'), tests.id('invitee')), 'team', 'the invitee is a live member with the invited role');
select is(tests.unit_membership_role(tests.id('unit_a1'), tests.id('invitee')), 'team', 'the invitee is a live member of the invited unit');
select is(tests.row_json('core.invitations', tests.id('inv')) ->> 'status', 'accepted', 'the invitation is marked accepted');
select is(tests.row_json('core.invitations', tests.id('inv')) ->> 'accepted_by', tests.id('invitee')::text, 'accepted_by records the invitee');
select isnt(tests.row_json('core.invitations', tests.id('inv')) ->> 'accepted_at', null, 'accepted_at is set');
select tests.refused(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token')),
  'an accepted invitation cannot be accepted again', '{P0001,23505,P0002}');
select tests.refused($$select count(*) from public.accept_invitation('not-a-real-token')$$,
  'an unknown token is refused', '{P0002,22023}');
select tests.refused('select count(*) from public.accept_invitation(null)',
  'a NULL token is refused', '{P0002,22023}');

-- The email comparison ignores case.
select tests.reset_identity();
select tests.remember('mixed', tests.create_user('Mixed.Case@SMTA.test'));
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token2', token, true)
  from public.create_invitation('mixed.case@smta.test', tests.id('org_a'), tests.id('team_role'));
select tests.authenticate_as(tests.id('mixed'));
select lives_ok(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token2')),
  'the email comparison is case-insensitive');

-- An expired invitation is refused.
select tests.reset_identity();
select tests.remember('late', tests.create_user('late@smta.test'));
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token3', r.token, true), tests.remember('inv3', r.id)
  from public.create_invitation('late@smta.test', tests.id('org_a'), tests.id('team_role')) r;
select tests.reset_identity();
update core.invitations set expires_at = now() - interval '1 minute' where id = tests.id('inv3');
select tests.authenticate_as(tests.id('late'));
select tests.refused(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token3')),
  'an expired invitation is refused', '{P0001,P0002,22023}');
select is(tests.membership_state(tests.id('org_a'), tests.id('late')), 'none', 'the expired invitation added nobody');

-- A cancelled invitation is refused.
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token4', r.token, true), tests.remember('inv4', r.id)
  from public.create_invitation('late.too@smta.test', tests.id('org_a'), tests.id('team_role')) r;
select public.cancel_invitation(tests.id('inv4'));
select tests.reset_identity();
select tests.remember('late_too', tests.create_user('late.too@smta.test'));
select tests.authenticate_as(tests.id('late_too'));
select tests.refused(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token4')),
  'a cancelled invitation is refused', '{P0001,P0002}');
select is(tests.membership_state(tests.id('org_a'), tests.id('late_too')), 'none', 'the cancelled invitation added nobody');

-- A user who became a member meanwhile cannot accept.
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token5', token, true)
  from public.create_invitation('member.soon@smta.test', tests.id('org_a'), tests.id('team_role'));
select tests.reset_identity();
select tests.remember('soon', tests.create_user('member.soon@smta.test'));
select tests.add_member(tests.id('org_a'), tests.id('soon'), 'manager');
select tests.authenticate_as(tests.id('soon'));
select tests.refused(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token5')),
  'a caller who is already a member cannot accept', '{P0001,23505}');
select is(tests.membership_role(tests.id('org_a'), tests.id('soon')), 'manager', 'the existing membership is unchanged');

select tests.reset_identity();
select * from finish();
rollback;
