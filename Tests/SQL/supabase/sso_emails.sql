-- A SAML provider's assertion proves an address only within that provider's domains (Supabase
-- adapter, 0005_sso_emails). GoTrue marks an SSO user's email confirmed whatever its domain; an
-- identity provider registered for evil.example that asserts ceo@acme.example must not make its
-- user ceo@acme.example for SMTA: no verified email, no join by Acme's verified domain, no
-- SCIM binding, not the user find_verified_user names. The same provider's own domain, and
-- password users, are read as before.
begin;
select plan(13);
select tests.world();

-- GoTrue's tables, as this suite's database has none: users with is_sso_user, identities, the
-- SSO providers' domains; then the SCIM trigger, as the migration makes it where auth.users exists.
create table auth.users (
  id uuid primary key, email text, email_confirmed_at timestamptz, last_sign_in_at timestamptz,
  is_sso_user boolean not null default false
);
create table auth.identities (user_id uuid not null, provider text not null);
create table auth.sso_domains (sso_provider_id uuid not null, domain text not null);
select core.attach_scim_binding_to_auth_users();
select tests.remember('evil_idp', gen_random_uuid());
select tests.remember('acme_idp', gen_random_uuid());
insert into auth.sso_domains values (tests.id('evil_idp'), 'evil.example'), (tests.id('acme_idp'), 'ACME.example');

-- Org A verified acme.example: its people join by domain, and its SCIM users there bind by themselves.
insert into core.organization_domains (organization_id, domain, verification_token, role_id, verified_at)
values (tests.id('org_a'), 'acme.example', 'acme-a', tests.role_id('team'), now());
insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
select tests.authenticate_service_role();
select tests.remember('ceo_scim', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "ceo", "email": "ceo@acme.example"}');
select tests.reset_identity();

-- The impostor: an SSO user of evil.example's provider asserting ceo@acme.example, confirmed.
select tests.remember('impostor', tests.create_user('ceo@acme.example'));
insert into auth.users (id, email, email_confirmed_at, is_sso_user) values (tests.id('impostor'), 'ceo@acme.example', now(), true);
insert into auth.identities values (tests.id('impostor'), 'sso:' || tests.id('evil_idp'));
update auth.users set last_sign_in_at = now() where id = tests.id('impostor');

select tests.authenticate_as(tests.id('impostor'));
select is(core.current_user_verified_email(), null, 'an SSO address outside its provider''s domains is not verified');
select is((select count(*) from public.list_joinable_organizations()), 0::bigint, 'the impostor sees no organization to join by domain');
select tests.refused(format('select count(*) from public.join_organization_by_domain(%L)', tests.id('org_a')),
  'nor joins Acme by its domain', '{42501,P0001,P0002}');
select is((select count(*) from public.claim_provisioned_memberships()), 0::bigint, 'nor claims Acme''s SCIM user');
select tests.reset_identity();
select is((select user_id from core.scim_users where id = tests.id('ceo_scim')), null, 'the sign-in bound nothing: Acme''s SCIM user is pending');
select is(tests.membership_state(tests.id('org_a'), tests.id('impostor')), 'none', 'the impostor is no member of Acme');
select is(core.find_verified_user('ceo@acme.example'), null, 'and is not the verified holder of the address');

-- An SSO user created before its identity is recorded (GoTrue's order): nothing proven yet.
select tests.remember('early', gen_random_uuid());
insert into auth.users (id, email, email_confirmed_at, is_sso_user) values (tests.id('early'), 'early@acme.example', now(), true);
select ok(core.supabase_sso_email_unproven(tests.id('early'), 'early@acme.example', true), 'an SSO user with no provider yet proves nothing');

-- Acme's own provider, for acme.example: its assertion is proof, as a confirmed address is.
select tests.remember('real_ceo', tests.create_user('boss@acme.example'));
select tests.authenticate_service_role();
select tests.remember('boss_scim', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "boss", "email": "boss@acme.example"}');
select tests.reset_identity();
insert into auth.users (id, email, email_confirmed_at, is_sso_user) values (tests.id('real_ceo'), 'boss@acme.example', now(), true);
insert into auth.identities values (tests.id('real_ceo'), 'sso:' || tests.id('acme_idp'));
update auth.users set last_sign_in_at = now() where id = tests.id('real_ceo');
select tests.authenticate_as(tests.id('real_ceo'));
select is(core.current_user_verified_email(), 'boss@acme.example', 'an SSO address in its provider''s domain is verified');
select tests.reset_identity();
select is((select user_id from core.scim_users where id = tests.id('boss_scim')), tests.id('real_ceo'),
  'and its sign-in binds Acme''s SCIM user');
select is(core.find_verified_user('boss@acme.example'), tests.id('real_ceo'), 'it is the verified holder of the address');

-- A password user is read as before.
select tests.remember('pw', tests.create_user('ana@acme.example'));
insert into auth.users (id, email, email_confirmed_at) values (tests.id('pw'), 'ana@acme.example', now());
select tests.authenticate_as(tests.id('pw'));
select is(core.current_user_verified_email(), 'ana@acme.example', 'a confirmed password user''s address is verified');
select tests.reset_identity();
select is((select count(*) from auth.users u where core.supabase_sso_email_unproven(u.id, u.email, u.is_sso_user)), 2::bigint,
  'exactly the impostor and the user without a provider are unproven');

select * from finish();
rollback;
