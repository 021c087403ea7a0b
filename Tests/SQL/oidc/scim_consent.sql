-- SCIM consent under the OIDC adapter (Adapters/OIDC/SQL/0004_scim_binding.sql): an email the
-- issuer verified binds by itself (at once, or by the trigger as link_identity records it) only
-- in one of the provisioning organization's verified domains. An address outside them stays
-- pending through every sign-in until its holder claims it; a domain verified by org A binds
-- nothing for org B; a pending (unverified) domain claim binds nothing.
-- Not in the Swift-run suite (which runs the Supabase and Payload adapters); run it by hand
-- against a database with the core and OIDC migrations and support/setup.sql +
-- support/identity_payload.sql (the same identity mechanism: app.current_user_id).
begin;
select plan(16);
select tests.world();

insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_b'), 'Entra B', repeat('b', 64)) returning tests.remember('tok_b', id);
-- Org A verified corp.example and claims pending.example, not verified.
insert into core.organization_domains (organization_id, domain, verification_token, role_id, verified_at)
values (tests.id('org_a'), 'corp.example', 'corp-a', tests.role_id('team'), now()),
       (tests.id('org_a'), 'pending.example', 'pending-a', tests.role_id('team'), null);

-- A fingerprint of the SCIM rows, the memberships and their audit rows.
create function pg_temp.state() returns text
language sql security definer set search_path = '' as $$
  select md5(coalesce((select string_agg(s::text, ',' order by s.id) from core.scim_users s), '')
             || coalesce((select string_agg(m::text, ',' order by m.id) from core.memberships m), '')
             || (select count(*) from core.audit_logs a
                 where a.target_table in ('core.scim_users', 'core.memberships', 'core.unit_memberships'))::text)
$$;
create temporary table before_state (v text) on commit drop;
create function pg_temp.snap() returns void language sql as $$
  delete from before_state; insert into before_state select pg_temp.state();
$$;
create function pg_temp.unchanged() returns boolean language sql as $$
  select pg_temp.state() = (select v from before_state);
$$;

-- Recorded before the provisioning, outside org A's domains: not bound at once.
select tests.remember('vic', core.link_identity('https://issuer.example', 'vic', 'vic@outside.example'));
select tests.authenticate_service_role();
select is((select tests.remember('vic_a', id) is not null and user_id is null
           from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "vic", "email": "vic@outside.example", "role": "manager"}')),
  true, 'an address an issuer verified, outside org A''s verified domains, does not bind at once');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_a'), tests.id('vic')), 'none', 'vic is no member of org A');

-- Provisioned first, recorded later (a new issuer's sign-in): not bound either.
select tests.authenticate_service_role();
select tests.remember('una_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "una", "email": "una@outside.example"}');
select tests.reset_identity();
select pg_temp.snap();
select tests.remember('una', core.link_identity('https://issuer.example', 'una', 'una@outside.example'));
select ok(pg_temp.unchanged(), 'link_identity recording an address outside the verified domains binds nothing');
select pg_temp.snap();
select core.link_identity('https://other.example', 'vic-again', 'vic@outside.example');
select ok(pg_temp.unchanged(), 'nor does another issuer recording vic''s address');

-- A pending domain claim; another organization's verified domain.
select tests.authenticate_service_role();
select tests.remember('pia_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "pia", "email": "pia@pending.example"}');
select tests.remember('kim_b', id) from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "kim", "email": "kim@corp.example"}');
select tests.reset_identity();
select pg_temp.snap();
select tests.remember('pia', core.link_identity('https://issuer.example', 'pia', 'pia@pending.example'));
select ok(pg_temp.unchanged(), 'a domain org A claimed but never verified binds nothing at sign-in');
select tests.remember('kim', core.link_identity('https://issuer.example', 'kim', 'kim@corp.example'));
select ok(pg_temp.unchanged(), 'org A''s verified domain binds nothing org B provisioned at sign-in');
select tests.authenticate_service_role();
select is((select tests.remember('kim_b2', id) is not null and user_id is null
           from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "kim2", "email": "kim.two@corp.example"}')),
  true, 'nor at once');
select is((select user_id from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "kim", "email": "kim@corp.example"}')),
  tests.id('kim'), 'org A provisioning the same address in its verified domain binds at once');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_b'), tests.id('kim')) || '/' || tests.membership_role(tests.id('org_a'), tests.id('kim')),
  'none/team', 'kim is a member of org A, not of org B');

-- Consent: the holder's own claim.
select tests.authenticate_verified(tests.id('vic'));
select is(core.current_user_verified_email(), 'vic@outside.example', 'vic signs in with the verified address');
select results_eq('select organization_id, role from public.list_provisioned_memberships()',
  format($$values (%L::uuid, 'manager')$$, tests.id('org_a')), 'vic sees org A waiting for them');
select is((select count(*) from public.claim_provisioned_memberships(true)), 0::bigint,
  'a sign-in binding (within verified domains) would not join it');
select results_eq('select organization_id, role from public.claim_provisioned_memberships()',
  format($$values (%L::uuid, 'manager')$$, tests.id('org_a')), 'vic''s own claim joins org A');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_a'), tests.id('vic')), 'manager', 'vic is a member of org A');
select is((select user_id from core.scim_users where id = tests.id('una_a')), null, 'una, who claimed nothing, is still pending');
select is((select count(*) from core.scim_request_actors), 0::bigint, 'no actor row is left behind');

select * from finish();
rollback;
