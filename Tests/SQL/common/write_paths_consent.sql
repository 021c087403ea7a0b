-- Consent (issue 10, item 7): adding an existing user by id needs no invitation (SMTA 0.8 does
-- it), but it does not hand that user's email and name to an organization they never chose.
-- A member added by id alone is listed by user id only, and their profile stays hidden, until
-- they join by their own act; someone who already consented to being seen in a shared
-- organization is visible at once. The stranger's side is checked on every read path.
begin;
select plan(21);
select tests.world();
select tests.remember('team_role', tests.role_id('team'));

-- The owner attaches a stranger (no shared organization) by id.
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_a'), tests.id('stranger'), tests.id('team_role')),
  'the owner may add an existing user by id');
select is((select count(*) from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('stranger')), 1::bigint,
  'the new member is listed');
select is((select row(email, first_name, last_name)::text from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('stranger')),
  row(null::text, null::text, null::text)::text, 'but without email or name');
select is((select count(*) from core.users_meta where id = tests.id('stranger')), 0::bigint,
  'their profile row stays invisible to the owner');
select lives_ok(format('select public.add_member_to_unit(%L, %L, %L)', tests.id('unit_a1'), tests.id('stranger'), tests.id('team_role')),
  'the owner puts them in a unit');
select is((select email from public.list_unit_members(tests.id('unit_a1')) where user_id = tests.id('stranger')), null,
  'the unit''s member list hides their email too');
select tests.authenticate_as(tests.id('team_a'));
select is((select email from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('stranger')), null,
  'other members do not see it either');
select is((select count(*) from core.users_meta where id = tests.id('stranger')), 0::bigint,
  'nor the profile row');
-- The hidden member sees themselves.
select tests.authenticate_as(tests.id('stranger'));
select is((select email from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('stranger')), 'stranger@smta.test',
  'the member added by id sees their own email');

-- A direct INSERT by the owner is held to the same rule, and cannot claim consent.
select tests.remember('guest', tests.create_user('guest.consent@smta.test', 'Guest', 'Consent'));
select tests.authenticate_as(tests.id('owner_a'));
select throws_ok(format($$insert into core.memberships (user_id, organization_id, role_id, consented_at) values (%L, %L, %L, now())$$,
                        tests.id('guest'), tests.id('org_a'), tests.id('team_role')),
  '42501', null, 'a direct INSERT cannot claim the member consented');
select throws_ok(format('insert into core.memberships (user_id, organization_id, role_id) values (%L, %L, %L)',
                        gen_random_uuid(), tests.id('org_a'), tests.id('team_role')),
  'P0002', 'User not found', 'a direct INSERT of an unknown user is refused, as the API refuses it');
select lives_ok(format('insert into core.memberships (user_id, organization_id, role_id) values (%L, %L, %L)',
                       tests.id('guest'), tests.id('org_a'), tests.id('team_role')),
  'the owner adds a known user by a direct INSERT');
select is((select email from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('guest')), null,
  'that member is hidden as well');

-- Adding someone who is already a consenting colleague reveals nothing new: visible at once.
select tests.remember('org_c', (select id from public.create_organization('Org C')));
select lives_ok(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_c'), tests.id('team_a'), tests.id('team_role')),
  'the owner adds a colleague of org A to a new organization');
select is((select email from public.list_organization_members(tests.id('org_c')) where user_id = tests.id('team_a')), 'team.a@smta.test',
  'a colleague who consented in org A is visible in org C');

-- A chain does not launder consent: the stranger hidden in org A stays hidden in org C.
select lives_ok(format('select public.add_member_to_organization(%L, %L, %L)', tests.id('org_c'), tests.id('stranger'), tests.id('team_role')),
  'the owner adds the hidden stranger to org C as well');
select is((select email from public.list_organization_members(tests.id('org_c')) where user_id = tests.id('stranger')), null,
  'they stay hidden there');

-- Joining by their own act: the stranger leaves, is invited, accepts, and is then visible.
select tests.authenticate_as(tests.id('stranger'));
select lives_ok(format('select public.leave_organization(%L)', tests.id('org_a')), 'the stranger leaves org A');
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token', (select token from public.create_invitation('stranger@smta.test', tests.id('org_a'), tests.id('team_role'))), true);
select tests.authenticate_as(tests.id('stranger'), 'stranger@smta.test');
select lives_ok(format('select * from public.accept_invitation(%L)', current_setting('tests.token')), 'and accepts an invitation');
select tests.authenticate_as(tests.id('owner_a'));
select is((select email from public.list_organization_members(tests.id('org_a')) where user_id = tests.id('stranger')), 'stranger@smta.test',
  'having accepted, they are visible');
select is((select count(*) from core.users_meta where id = tests.id('stranger')), 1::bigint, 'and so is their profile row');

select tests.reset_identity();
select * from finish();
rollback;
