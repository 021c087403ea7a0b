-- SCIM binding under the OIDC adapter (Adapters/OIDC/SQL/0004_scim_binding.sql): the email
-- core.link_identity records is one the issuer verified. Within the organization's verified
-- domain (corp.example, verified by org A here: the binding mechanics), a provisioning that
-- names a recorded address binds at once; a pending one binds as link_identity records its
-- address (a first sign-in, or a newly verified address); an address two users share binds
-- neither. Addresses outside the verified domains: oidc/scim_consent.sql.
-- Not in the Swift-run suite (which runs the Supabase and Payload adapters); run it by hand
-- against a database with the core and OIDC migrations and support/setup.sql +
-- support/identity_payload.sql (the same identity mechanism: app.current_user_id).
begin;
select plan(7);
select tests.world();
insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
insert into core.organization_domains (organization_id, domain, verification_token, role_id, verified_at)
values (tests.id('org_a'), 'corp.example', 'corp-a', tests.role_id('team'), now());

-- Recorded before the provisioning (in another case): bound at once.
select tests.remember('mo', core.link_identity('https://issuer.example', 'mo', 'Mo@Corp.example'));
select tests.authenticate_service_role();
select is((select user_id from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "mo", "email": "mo@corp.example"}')),
  tests.id('mo'), 'an address an issuer verified binds at once');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_a'), tests.id('mo')), 'team', 'mo is a member at once');

-- Provisioned first: bound when link_identity records it.
select tests.authenticate_service_role();
select tests.remember('nia_scim', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "nia", "email": "nia@corp.example", "role": "manager"}');
select tests.reset_identity();
select tests.remember('nia', core.link_identity('https://issuer.example', 'nia', null));
select is((select user_id from core.scim_users where id = tests.id('nia_scim')), null, 'a sign-in without a verified email binds nothing');
select core.link_identity('https://issuer.example', 'nia', 'nia@corp.example');
select is((select user_id from core.scim_users where id = tests.id('nia_scim')), tests.id('nia'), 'recording her verified address binds it');
select is(tests.membership_role(tests.id('org_a'), tests.id('nia')), 'manager', 'and nia is a member with the SCIM role');

-- Two issuers' users with one address: neither.
select core.link_identity('https://one.example', 'x', 'twin@corp.example');
select core.link_identity('https://two.example', 'y', 'twin@corp.example');
select tests.authenticate_service_role();
select is((select user_id from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "twin", "email": "twin@corp.example"}')),
  null, 'an address two users share binds neither');
select tests.reset_identity();
select is((select count(*) from core.scim_request_actors), 0::bigint, 'no actor row is left behind');

select * from finish();
rollback;
