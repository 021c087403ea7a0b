-- get_user_profile / update_user_profile: a user reads and edits only their own profile.
begin;
select plan(8);
select tests.world();

select tests.authenticate_as(tests.id('team_a'));

select results_eq(
  'select id, email, first_name, last_name from public.get_user_profile()',
  format($$values (%L::uuid, 'team.a@smta.test', 'Team', 'A')$$, tests.id('team_a')),
  'get_user_profile returns the caller''s own profile');

select results_eq(
  $$select id, first_name, last_name from public.update_user_profile('Teresa', 'Ambrosi')$$,
  format($$values (%L::uuid, 'Teresa', 'Ambrosi')$$, tests.id('team_a')),
  'update_user_profile returns the updated profile');

select is(tests.row_json('core.users_meta', tests.id('team_a')) ->> 'first_name', 'Teresa',
  'update_user_profile stored the new first name');
select is(tests.row_json('core.users_meta', tests.id('team_a')) ->> 'email', 'team.a@smta.test',
  'update_user_profile left the email alone');
select is(tests.row_json('core.users_meta', tests.id('member_a')) ->> 'first_name', 'Member',
  'update_user_profile changed no other user''s profile');

select tests.authenticate_as(tests.id('stranger'));
select results_eq(
  'select id from public.get_user_profile()',
  format('values (%L::uuid)', tests.id('stranger')),
  'a user in no organization gets their own profile and nobody else''s');

select tests.allowed($$select count(*) from public.update_user_profile('S', 'N')$$,
  'a user in no organization may edit their own profile');
select is(tests.row_json('core.users_meta', tests.id('team_a')) ->> 'first_name', 'Teresa',
  'another user''s edit left team_a''s profile alone');

select tests.reset_identity();
select * from finish();
rollback;
