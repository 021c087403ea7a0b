-- core.current_user_verified_email() under the Supabase adapter: only auth.users proves an
-- email (email_confirmed_at set), never the token: neither its email claim nor the
-- user-writable user_metadata.email_verified. No auth.users, no proof.
begin;
select plan(10);
select tests.remember('u', tests.create_user('Mixed.Case@Corp.Example'));
select tests.remember('other', tests.create_user('other@corp.example'));

-- The token says verified in every way a client could make it say so; no auth.users exists.
select tests.authenticate_as(tests.id('u'));
select set_config('request.jwt.claims', (current_setting('request.jwt.claims')::jsonb || jsonb_build_object(
  'email_verified', true, 'user_metadata', jsonb_build_object('email_verified', true, 'email', 'mixed.case@corp.example')))::text, true);
select is(core.current_user_verified_email(), null, 'without auth.users no email is verified, whatever the token claims');
select tests.reset_identity();
select ok(to_regclass('auth.users') is null, 'this suite''s database has no auth.users of its own');

-- GoTrue's table: unconfirmed, then confirmed.
create table auth.users (id uuid primary key, email text, email_confirmed_at timestamptz);
insert into auth.users values (tests.id('u'), 'Mixed.Case@Corp.Example', null), (tests.id('other'), 'other@corp.example', now());
select tests.authenticate_as(tests.id('u'));
select set_config('request.jwt.claims', (current_setting('request.jwt.claims')::jsonb || jsonb_build_object(
  'user_metadata', jsonb_build_object('email_verified', true)))::text, true);
select is(core.current_user_verified_email(), null, 'an unconfirmed address is not verified, even with user_metadata.email_verified');
select tests.reset_identity();
update auth.users set email_confirmed_at = now() where id = tests.id('u');
select tests.authenticate_as(tests.id('u'));
select is(core.current_user_verified_email(), 'mixed.case@corp.example', 'a confirmed address is the verified email, lowercased');

-- The token's email claim does not move the proof to another address.
select tests.authenticate_as(tests.id('u'), 'ceo@victim.example');
select is(core.current_user_verified_email(), 'mixed.case@corp.example', 'the verified email is auth.users''s, not the token''s email claim');

-- Another user's confirmation proves nothing for the caller; nobody signed in, nothing.
select tests.reset_identity();
update auth.users set email_confirmed_at = null where id = tests.id('u');
select tests.authenticate_as(tests.id('u'));
select is(core.current_user_verified_email(), null, 'another user''s confirmed address is not the caller''s');
select tests.authenticate_service_role();
select is(core.current_user_verified_email(), null, 'service_role without a user has no verified email');
select tests.authenticate_anon();
select tests.refused('select core.current_user_verified_email()', 'anon may not ask', '{42501}');

-- The hook reads auth.users as its owner, with its search_path pinned.
select tests.reset_identity();
select is((select prosecdef from pg_proc where oid = 'core.current_user_verified_email()'::regprocedure), true,
  'the hook is SECURITY DEFINER (the signed-in roles cannot read auth.users)');
select is((select proconfig from pg_proc where oid = 'core.current_user_verified_email()'::regprocedure), array['search_path=""'],
  'with an empty search_path');

select * from finish();
rollback;
