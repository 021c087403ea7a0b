-- A domain verified after its people were provisioned (Supabase): the verification binds at once
-- the pending SCIM users at that domain whose address GoTrue confirmed
-- (core.bind_scim_users_of_verified_domain), instead of waiting for their next sign-in. An
-- unconfirmed address, an address at another domain, and another organization's SCIM user at
-- that domain stay pending; verifying again changes nothing.
begin;
select plan(8);
select tests.world();

-- GoTrue's table, as this suite's database has none: then the trigger, as the migration makes
-- it where auth.users exists.
create table auth.users (
  id uuid primary key, email text, email_confirmed_at timestamptz, last_sign_in_at timestamptz
);
select core.attach_scim_binding_to_auth_users();

insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_b'), 'Entra B', repeat('b', 64)) returning tests.remember('tok_b', id);

-- Ann and Dan confirmed their addresses at later.example, Ben did not; Cat's is elsewhere.
select tests.remember('ann', tests.create_user('ann@later.example', 'Ann', 'Confirmed'));
select tests.remember('ben', tests.create_user('ben@later.example', 'Ben', 'Unconfirmed'));
select tests.remember('cat', tests.create_user('cat@else.example', 'Cat', 'Elsewhere'));
select tests.remember('dan', tests.create_user('dan@later.example', 'Dan', 'Other org'));
insert into auth.users (id, email, email_confirmed_at)
values (tests.id('ann'), 'ann@later.example', now()), (tests.id('ben'), 'ben@later.example', null),
       (tests.id('cat'), 'cat@else.example', now()), (tests.id('dan'), 'dan@later.example', now());

select tests.authenticate_service_role();
select tests.remember('ann_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "ann@later.example", "email": "ann@later.example"}');
select tests.remember('ben_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "ben@later.example", "email": "ben@later.example"}');
select tests.remember('cat_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "cat@else.example", "email": "cat@else.example"}');
select tests.remember('dan_b', id) from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "dan@later.example", "email": "dan@later.example"}');
select tests.reset_identity();
select is((select count(*) from core.scim_users where user_id is not null), 0::bigint,
  'before org A verifies later.example, nobody is bound');

insert into core.organization_domains (organization_id, domain, verification_token, role_id)
values (tests.id('org_a'), 'later.example', 'later-a', tests.role_id('team')) returning tests.remember('dom', id);
select tests.authenticate_service_role();
select lives_ok(format('select platform.verify_organization_domain(%L)', tests.id('dom')), 'the platform verifies later.example for org A');
select tests.reset_identity();

select is((select user_id from core.scim_users where id = tests.id('ann_a')), tests.id('ann'),
  'ann, confirmed at later.example, is bound by the verification');
select is(tests.membership_role(tests.id('org_a'), tests.id('ann')), 'team', 'and is a member of org A');
select is((select user_id from core.scim_users where id = tests.id('ben_a')), null, 'ben, unconfirmed, stays pending');
select is((select user_id from core.scim_users where id = tests.id('cat_a')), null, 'cat, at another domain, stays pending');
select is((select user_id from core.scim_users where id = tests.id('dan_b')), null,
  'dan, provisioned by org B, which did not verify later.example, stays pending');

select tests.authenticate_service_role();
select platform.verify_organization_domain(tests.id('dom'));
select tests.reset_identity();
select is((select count(*) from core.scim_users where user_id is not null), 1::bigint, 'verifying again changes nothing');

select * from finish();
rollback;
