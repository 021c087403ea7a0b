-- Payload adapter: core.link_identity(p_provider, p_subject, p_email) maps a Payload user to a
-- stable SMTA user id — the same for the same user every time (even if the mapping row is lost),
-- different across auth collections and ids, a uuid subject passed through unchanged — records
-- the mapping, puts the email in core.users_meta where invitations trust it, and may be called
-- by the backend (app_admin) only, never by a tenant.
begin;
select plan(21);

select tests.authenticate_service_role();
select set_config('tests.users2', core.link_identity('payload', 'users:2', 'two@smta.test')::text, true);
select is(core.link_identity('payload', 'users:2', 'two@smta.test'), current_setting('tests.users2')::uuid,
  'the same Payload user maps to the same id every time');
select isnt(core.link_identity('payload', 'admins:2', 'two.admin@smta.test'), current_setting('tests.users2')::uuid,
  'user 2 of another auth collection is another SMTA user');
select isnt(core.link_identity('payload', 'users:3', 'three@smta.test'), current_setting('tests.users2')::uuid,
  'another user id of the same collection is another SMTA user');
select is(substr(current_setting('tests.users2'), 15, 1), '5', 'the id is a name-based (version 5) uuid');
select is(core.link_identity('payload', 'c0ffee00-1234-4abc-8def-0123456789ab', 'uuid.user@smta.test'),
  'c0ffee00-1234-4abc-8def-0123456789ab'::uuid, 'a subject that already is a uuid passes through unchanged');

select tests.reset_identity();
select results_eq(
  format($$select provider, subject, email from core.identity_links where user_id = %L$$, current_setting('tests.users2')),
  $$values ('payload', 'users:2', 'two@smta.test')$$,
  'the mapping is recorded in core.identity_links');
select is(tests.row_json('core.users_meta', current_setting('tests.users2')::uuid) ->> 'email', 'two@smta.test',
  'the email reaches core.users_meta');
delete from core.identity_links where user_id = current_setting('tests.users2')::uuid;

select tests.authenticate_service_role();
select is(core.link_identity('payload', 'users:2', 'two@smta.test'), current_setting('tests.users2')::uuid,
  'the id is derived, not allocated: losing the mapping row gives the same id back');
select lives_ok($$select core.link_identity('payload', 'users:2', 'two.new@smta.test')$$, 'a changed email is accepted');
select tests.reset_identity();
select is(tests.row_json('core.users_meta', current_setting('tests.users2')::uuid) ->> 'email', 'two.new@smta.test',
  'the new email replaces the old one in core.users_meta');
select tests.authenticate_service_role();
select lives_ok($$select core.link_identity('payload', 'users:2', null)$$, 'a request without an email is accepted');
select tests.reset_identity();
select is(tests.row_json('core.users_meta', current_setting('tests.users2')::uuid) ->> 'email', 'two.new@smta.test',
  'a missing email does not erase the recorded one');

select tests.authenticate_service_role();
select tests.refused($$select core.link_identity('payload', '', 'x@smta.test')$$, 'an empty subject is refused', '{22023}');
select tests.refused($$select core.link_identity('', 'users:9', 'x@smta.test')$$, 'an empty provider is refused', '{22023}');
select tests.refused($$select core.link_identity('payload', 'users:9', 'not-an-email')$$, 'a malformed email is refused', '{22023}');

-- Tenants can neither call it nor read the mapping.
select ok(not has_function_privilege('authenticated', 'core.link_identity(text, text, text)', 'EXECUTE')
      and not has_function_privilege('anon', 'core.link_identity(text, text, text)', 'EXECUTE')
      and not has_function_privilege('app_user', 'core.link_identity(text, text, text)', 'EXECUTE'),
  'authenticated, anon and app_user may not execute core.link_identity');
select ok(has_function_privilege('service_role', 'core.link_identity(text, text, text)', 'EXECUTE'),
  'the service role may');
select tests.authenticate_as(current_setting('tests.users2')::uuid);
select tests.refused($$select core.link_identity('payload', 'users:2', 'hijack@smta.test')$$,
  'a signed-in tenant cannot attach an email to a user id', '{42501}');
select tests.refused('select count(*) from core.identity_links', 'a signed-in tenant cannot read the identity map', '{42501}');
select tests.authenticate_anon();
select tests.refused($$select core.link_identity('payload', 'users:2', 'hijack@smta.test')$$,
  'anon cannot call it', '{42501}');

-- End to end: the linked user is invited by email and accepts.
select tests.reset_identity();
select tests.world();
select tests.authenticate_as(tests.id('owner_a'));
select set_config('tests.token', token, true)
  from public.create_invitation('two.new@smta.test', tests.id('org_a'), tests.role_id('team'));
select tests.authenticate_as(current_setting('tests.users2')::uuid);
select lives_ok(format('select count(*) from public.accept_invitation(%L)', current_setting('tests.token')),
  'a Payload user whose email was linked accepts an invitation sent to that email');

select tests.reset_identity();
select * from finish();
rollback;
