-- cancel_invitation, resend_invitation, list_invitations: members manage their organization's
-- invitations (SMTA 0.8: any member); only pending invitations are cancelled; resend issues a new token (the old one
-- stops working) and a new 7 days; outsiders are refused and change nothing.
begin;
select plan(21);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));

select tests.authenticate_as(tests.id('owner_a'));
select tests.remember('inv1', id) from public.create_invitation('one@smta.test', tests.id('org_a'), tests.id('team_role'));
select set_config('tests.token2', r.token, true), tests.remember('inv2', r.id)
  from public.create_invitation('two@smta.test', tests.id('org_a'), tests.id('team_role')) r;
select tests.remember('inv3', id) from public.create_invitation('three@smta.test', tests.id('org_a'), tests.id('team_role'));

select tests.authenticate_as(tests.id('team_a'));
select is((select count(*)::int from public.list_invitations(tests.id('org_a'))), 3, 'a member lists the organization''s invitations');
select results_eq(
  format($$select email, role_name, invited_by_email, status from public.list_invitations(%L) where id = %L$$, tests.id('org_a'), tests.id('inv1')),
  $$values ('one@smta.test', 'team', 'owner.a@smta.test', 'pending')$$,
  'list_invitations shows email, role, inviter and status');
select tests.refused(format($$select count(*) from public.list_invitations(%L, 'PENDING')$$, tests.id('org_a')),
  'an unknown status filter is refused, not silently empty', '{22023}');

select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format('select count(*) from public.list_invitations(%L)', tests.id('org_a')),
  'an outsider may not list the organization''s invitations', '{42501}');
select tests.refused(format($$select count(*) from public.list_invitations(%L, 'PENDING')$$, tests.id('org_a')),
  'an outsider is refused before its filter is validated', '{42501}');
select tests.refused(format('select public.cancel_invitation(%L)', tests.id('inv1')),
  'an outsider may not cancel the invitation');
select tests.refused(format('select count(*) from public.resend_invitation(%L)', tests.id('inv2')),
  'an outsider may not resend the invitation');
select is(tests.row_json('core.invitations', tests.id('inv1')) ->> 'status', 'pending', 'the refused cancel changed nothing');

select tests.authenticate_as(tests.id('team_a'));
select tests.allowed(format('select public.cancel_invitation(%L)', tests.id('inv1')),
  'a team member may cancel a pending invitation (SMTA 0.8: any member of the organization)');
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.cancel_invitation(%L)', tests.id('inv1')), 'the super_admin cancels a pending invitation');
select is(tests.row_json('core.invitations', tests.id('inv1')) ->> 'status', 'cancelled', 'the invitation is cancelled');
select tests.refused(format('select public.cancel_invitation(%L)', tests.id('inv1')),
  'a cancelled invitation cannot be cancelled again', '{P0001}');
select is((select count(*)::int from public.list_invitations(tests.id('org_a'), 'cancelled')), 1, 'the status filter selects cancelled invitations');
select tests.refused(format('select count(*) from public.resend_invitation(%L)', tests.id('inv1')),
  'a cancelled invitation cannot be resent', '{P0001}');

select tests.reset_identity();
select set_config('tests.hash2_before', tests.row_json('core.invitations', tests.id('inv2')) ->> 'token', true);
update core.invitations set expires_at = now() + interval '1 day' where id = tests.id('inv2');
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token2b', token, true) from public.resend_invitation(tests.id('inv2'));
select isnt(current_setting('tests.token2b'), current_setting('tests.token2'), 'resend returns a new raw token');
select isnt(tests.row_json('core.invitations', tests.id('inv2')) ->> 'token', current_setting('tests.hash2_before'), 'resend replaces the stored token');
select ok((tests.row_json('core.invitations', tests.id('inv2')) ->> 'expires_at')::timestamptz > now() + interval '6 days 23 hours',
  'resend gives the invitation a new 7 days');

select tests.reset_identity();
select tests.remember('two', tests.create_user('two@smta.test'));
select tests.authenticate_as(tests.id('two'));
select tests.refused(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token2')),
  'the old token no longer works after a resend', '{P0002,22023,P0001}');
select lives_ok(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token2b')),
  'the new token works');

-- An expired invitation can be resent and becomes pending again.
select tests.reset_identity();
update core.invitations set status = 'expired', expires_at = now() - interval '1 day' where id = tests.id('inv3');
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select count(*) from public.resend_invitation(%L)', tests.id('inv3')), 'an expired invitation can be resent');
select is(tests.row_json('core.invitations', tests.id('inv3')) ->> 'status', 'pending', 'the resent invitation is pending again');

select tests.reset_identity();
select * from finish();
rollback;
