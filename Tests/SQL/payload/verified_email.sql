-- core.current_user_verified_email() under the Payload adapter: the email is verified only when
-- the adapter marked the identity's claims with email_verified (the JSON literal true), which it
-- does for collections that verify email; anything else proves nothing and raises nothing.
begin;
select plan(8);
select tests.remember('u', tests.create_user('Mixed.Case@Corp.Example'));
select tests.remember('bare', tests.create_user(null));

select tests.authenticate_as(tests.id('u'));
select is(core.current_user_verified_email(), null, 'an identity without claims proves nothing');

select tests.authenticate_verified(tests.id('u'));
select is(core.current_user_verified_email(), 'mixed.case@corp.example', 'email_verified true: the recorded email, lowercased');

select set_config('request.jwt.claims', (current_setting('request.jwt.claims')::jsonb || '{"email_verified": "true"}')::text, true);
select is(core.current_user_verified_email(), null, 'the string "true" is not the flag');
select set_config('request.jwt.claims', (current_setting('request.jwt.claims')::jsonb || '{"email_verified": 1}')::text, true);
select is(core.current_user_verified_email(), null, 'nor is the number 1');
select set_config('request.jwt.claims', '{not json', true);
select is(core.current_user_verified_email(), null, 'unreadable claims prove nothing, and raise nothing');
select set_config('request.jwt.claims', '[true]', true);
select is(core.current_user_verified_email(), null, 'claims that are not an object prove nothing');

select tests.authenticate_verified(tests.id('bare'));
select is(core.current_user_verified_email(), null, 'a user without an email has no verified email');

select tests.authenticate_anon();
select tests.refused('select core.current_user_verified_email()', 'anon may not ask', '{42501}');

select * from finish();
rollback;
