-- create_invitation: a member invites an email into their organization (and into a unit they
-- belong to) with a global or organization role other than super_admin; the email is stored
-- lower-case; expiry is 7 days; duplicates, members, outsiders and bad input are refused and
-- create nothing.
begin;
select plan(22);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));
select tests.remember('super_admin_role', tests.role_id('super_admin'));

select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.created', (r.id::text || ' ' || r.email || ' ' || length(r.token)::text
                                    || ' ' || (r.expires_at between now() + interval '6 days 23 hours' and now() + interval '7 days 1 hour')::text), true)
  from public.create_invitation('New.Person@Example.com', tests.id('org_a'), tests.id('team_role')) r;
select tests.remember('inv', split_part(current_setting('tests.created'), ' ', 1)::uuid);
select is(split_part(current_setting('tests.created'), ' ', 2), 'new.person@example.com',
  'create_invitation returns the email in lower case');
select cmp_ok(split_part(current_setting('tests.created'), ' ', 3)::int, '>=', 32,
  'create_invitation returns a long raw token');
select is(split_part(current_setting('tests.created'), ' ', 4), 'true', 'create_invitation returns an expiry 7 days ahead');

select tests.reset_identity();
select is(tests.row_json('core.invitations', tests.id('inv')) ->> 'status', 'pending', 'the invitation is pending');
select is(tests.row_json('core.invitations', tests.id('inv')) ->> 'email', 'new.person@example.com', 'the stored email is lower case');
select is(tests.row_json('core.invitations', tests.id('inv')) ->> 'invited_by', tests.id('owner_a')::text, 'invited_by records the inviter');
select is(tests.row_json('core.invitations', tests.id('inv')) ->> 'organization_id', tests.id('org_a')::text, 'the invitation is for the organization');
select ok((tests.row_json('core.invitations', tests.id('inv')) ->> 'expires_at')::timestamptz
          between now() + interval '6 days 23 hours' and now() + interval '7 days 1 hour',
  'the stored expiry is 7 days ahead');

select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format($$select count(*) from public.create_invitation('NEW.PERSON@example.com', %L, %L)$$, tests.id('org_a'), tests.id('team_role')),
  'a second pending invitation for the same email and organization is refused', '{23505}');
select tests.refused(format($$select count(*) from public.create_invitation('team.a@smta.test', %L, %L)$$, tests.id('org_a'), tests.id('team_role')),
  'inviting an existing member''s email is refused', '{23505,P0001}');
select tests.refused(format($$select count(*) from public.create_invitation('boss@smta.test', %L, %L)$$, tests.id('org_a'), tests.id('super_admin_role')),
  'nobody is invited as super_admin', '{42501,22023,P0001}');
select tests.refused(format($$select count(*) from public.create_invitation('not-an-email', %L, %L)$$, tests.id('org_a'), tests.id('team_role')),
  'an invalid email is refused', '{22023,23514}');
select tests.refused(format($$select count(*) from public.create_invitation('unit@smta.test', %L, %L, %L)$$, tests.id('org_a'), tests.id('team_role'), tests.id('unit_b1')),
  'a unit of another organization is refused', '{22023,P0002,42501}');
select tests.refused(format($$select count(*) from public.create_invitation('role@smta.test', %L, %L)$$, tests.id('org_a'), gen_random_uuid()),
  'a role that does not exist is refused', '{22023,P0002}');

select tests.authenticate_as(tests.id('team_a'));
select tests.allowed(format($$select count(*) from public.create_invitation('friend@smta.test', %L, %L, %L)$$, tests.id('org_a'), tests.id('team_role'), tests.id('unit_a1')),
  'a team member invites into a unit they belong to');
select tests.refused(format($$select count(*) from public.create_invitation('friend@smta.test', %L, %L, %L)$$, tests.id('org_a'), tests.id('team_role'), tests.id('unit_a2')),
  'a team member may not invite into a unit they do not belong to', '{42501}');

select tests.authenticate_as(tests.id('owner_b'));
select tests.refused(format($$select count(*) from public.create_invitation('spy@smta.test', %L, %L)$$, tests.id('org_a'), tests.id('team_role')),
  'an outsider may not invite into the organization', '{42501}');
select tests.authenticate_as(tests.id('stranger'));
select tests.refused(format($$select count(*) from public.create_invitation('spy@smta.test', %L, %L)$$, tests.id('org_a'), tests.id('team_role')),
  'a user in no organization may not invite into it', '{42501}');
select is(tests.count_rows('core.invitations', jsonb_build_object('organization_id', tests.id('org_a'))), 1::bigint,
  'refused invitations created no row');

select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format($$select count(*) from public.create_invitation('meta@smta.test', %L, %L, null, '{"message": "Welcome!"}')$$, tests.id('org_a'), tests.id('team_role')),
  'an invitation carries metadata');
select is((select r ->> 'metadata' from tests.rows('core.invitations', '{"email": "meta@smta.test"}') r)::jsonb ->> 'message', 'Welcome!',
  'the metadata is stored');

-- Once the earlier invitation has expired, the email may be invited again.
select tests.reset_identity();
update core.invitations set expires_at = now() - interval '1 minute' where id = tests.id('inv');
select tests.authenticate_as(tests.id('owner_a'));
select tests.allowed(format($$select count(*) from public.create_invitation('new.person@example.com', %L, %L)$$, tests.id('org_a'), tests.id('team_role')),
  'an email whose pending invitation expired may be invited again');

select tests.reset_identity();
select * from finish();
rollback;
