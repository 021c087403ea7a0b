-- get_invitation_details: the invitee, holding the raw token, learns what they are invited to
-- (organization, unit, role, inviter, expiry, status) — never the token itself; a wrong token
-- reveals nothing.
begin;
select plan(5);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('invitee', tests.create_user('invitee@smta.test'));

select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token', token, true)
  from public.create_invitation('invitee@smta.test', tests.id('org_a'), tests.id('team_role'), tests.id('unit_a1'));

select tests.authenticate_as(tests.id('invitee'));
select results_eq(
  format('select email, organization_name, unit_name, role_name, status from public.get_invitation_details(%L)', current_setting('tests.token')),
  $$values ('invitee@smta.test', 'Org A', 'Unit A1', 'team', 'pending')$$,
  'the invitee sees the organization, unit, role and status of the invitation');
select ok((select expires_at > now() from public.get_invitation_details(current_setting('tests.token'))),
  'the details carry the expiry');
select ok(not exists (select 1 from public.get_invitation_details(current_setting('tests.token')) d
                       where to_jsonb(d)::text like '%' || current_setting('tests.token') || '%'),
  'the details never echo the token');
select tests.sees_nothing($$select count(*) from public.get_invitation_details('wrong-token')$$,
  'a wrong token reveals nothing');
select tests.sees_nothing($$select count(*) from public.get_invitation_details('')$$,
  'an empty token reveals nothing');

select tests.reset_identity();
select * from finish();
rollback;
