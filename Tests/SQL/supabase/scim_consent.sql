-- SCIM consent under the Supabase adapter (Adapters/Supabase/SQL/0004_scim_binding.sql): GoTrue's
-- confirmed auth.users binds by itself (at once, or by the trigger as the user is confirmed or
-- signs in) only an address in one of the provisioning organization's verified domains. A
-- confirmed customer's address outside them (x@outside.example) stays pending through every
-- sign-in until its holder claims it; a domain verified by org A binds nothing for org B; a
-- pending (unverified) domain claim binds nothing.
begin;
select plan(28);
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

-- ---------------------------------------------------------------------------------------------
-- Outside the verified domains: a confirmed customer of the platform
-- ---------------------------------------------------------------------------------------------
select tests.remember('vic', tests.create_user('vic@outside.example', 'Vic', 'Outside'));
insert into auth.users (id, email, email_confirmed_at, last_sign_in_at)
values (tests.id('vic'), 'vic@outside.example', now(), now());

select tests.authenticate_service_role();
select is((select tests.remember('vic_a', id) is not null and user_id is null
           from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "vic", "email": "vic@outside.example", "role": "manager"}')),
  true, 'provisioning a confirmed user''s address outside org A''s verified domains does not bind at once');
select is((select user_id from platform.scim_get_user(tests.id('tok_a'), tests.id('vic_a'))), null,
  'the identity provider reads it back pending (nothing tells it the address has an account)');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_a'), tests.id('vic')), 'none', 'vic is no member of org A');

select pg_temp.snap();
update auth.users set last_sign_in_at = now() + interval '1 minute' where id = tests.id('vic');
select ok(pg_temp.unchanged(), 'vic''s sign-in (the trigger) binds nothing and writes nothing');
update auth.users set email = 'vic@outside.example', email_confirmed_at = now() + interval '2 minutes' where id = tests.id('vic');
select ok(pg_temp.unchanged(), 'nor does confirming the address again');

-- An address confirmed after the provisioning.
select tests.authenticate_service_role();
select tests.remember('una_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "una", "email": "una@outside.example"}');
select tests.reset_identity();
select tests.remember('una', tests.create_user('una@outside.example', 'Una', 'Later'));
insert into auth.users (id, email) values (tests.id('una'), 'una@outside.example');
select pg_temp.snap();
update auth.users set email_confirmed_at = now(), last_sign_in_at = now() where id = tests.id('una');
select ok(pg_temp.unchanged(), 'confirming an address outside the verified domains binds nothing');
select is((select user_id from core.scim_users where id = tests.id('una_a')), null, 'una''s SCIM user stays pending');

-- ---------------------------------------------------------------------------------------------
-- A pending domain claim; another organization's verified domain
-- ---------------------------------------------------------------------------------------------
select tests.remember('pia', tests.create_user('pia@pending.example', 'Pia', 'Pending'));
insert into auth.users (id, email, email_confirmed_at) values (tests.id('pia'), 'pia@pending.example', now());
select tests.authenticate_service_role();
select is((select tests.remember('pia_a', id) is not null and user_id is null
           from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "pia", "email": "pia@pending.example"}')),
  true, 'a domain org A claimed but never verified binds nothing at once');
select tests.reset_identity();
select pg_temp.snap();
update auth.users set last_sign_in_at = now() where id = tests.id('pia');
select ok(pg_temp.unchanged(), 'nor at sign-in');

select tests.remember('kim', tests.create_user('kim@corp.example', 'Kim', 'Company'));
insert into auth.users (id, email, email_confirmed_at) values (tests.id('kim'), 'kim@corp.example', now());
select tests.authenticate_service_role();
select is((select tests.remember('kim_b', id) is not null and user_id is null
           from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "kim", "email": "kim@corp.example"}')),
  true, 'org A''s verified domain binds nothing org B provisions, at once');
select tests.reset_identity();
select pg_temp.snap();
update auth.users set last_sign_in_at = now() where id = tests.id('kim');
select ok(pg_temp.unchanged(), 'nor at sign-in');
select is(tests.membership_state(tests.id('org_b'), tests.id('kim')), 'none', 'kim is no member of org B');

-- Within org A's verified domain everything binds by itself, as before.
select tests.authenticate_service_role();
select is((select user_id from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "kim", "email": "kim@corp.example"}')),
  tests.id('kim'), 'org A provisioning the same address in its verified domain binds at once');
select tests.remember('lou_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "lou", "email": "lou@corp.example"}');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_a'), tests.id('kim')), 'team', 'kim is a member of org A');
select tests.remember('lou', gen_random_uuid());
insert into auth.users (id, email, email_confirmed_at) values (tests.id('lou'), 'lou@corp.example', now());
select is((select user_id from core.scim_users where id = tests.id('lou_a')), tests.id('lou'), 'and a confirmation in it binds at sign-in');

-- ---------------------------------------------------------------------------------------------
-- Consent
-- ---------------------------------------------------------------------------------------------
-- Org B provisions vic's address too (anybody can make an organization and a SCIM token).
select tests.authenticate_service_role();
select tests.remember('vic_b', id) from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "vic", "email": "vic@outside.example"}');
select tests.authenticate_verified(tests.id('vic'));
select results_eq('select organization_id, role from public.list_provisioned_memberships() order by organization_id',
  format($$select * from (values (%L::uuid, 'manager'), (%L::uuid, 'team')) as v order by 1$$, tests.id('org_a'), tests.id('org_b')),
  'vic sees org A and org B waiting for them');
select is((select count(*) from public.claim_provisioned_memberships(true)), 0::bigint,
  'the bridge''s sign-in binding would not join them either');
select tests.reset_identity();
select pg_temp.snap();
select tests.authenticate_verified(tests.id('vic'));
select is((select count(*) from public.claim_provisioned_memberships(p_organization_id => gen_random_uuid())), 0::bigint,
  'a claim naming an organization that provisioned nothing for vic joins nothing');
select tests.reset_identity();
select ok(pg_temp.unchanged(), 'and writes nothing');
select tests.authenticate_verified(tests.id('vic'));
select results_eq('select organization_id, role from public.claim_provisioned_memberships(p_organization_id => ' || quote_literal(tests.id('org_a')) || ')',
  format($$values (%L::uuid, 'manager')$$, tests.id('org_a')), 'vic''s claim naming org A joins org A');
select tests.reset_identity();
select is(tests.membership_state(tests.id('org_b'), tests.id('vic')), 'none', 'and not org B, which vic did not accept');
select is((select user_id from core.scim_users where id = tests.id('vic_b')), null, 'org B''s SCIM user for vic stays pending');
select tests.authenticate_verified(tests.id('vic'));
select results_eq('select organization_id from public.list_provisioned_memberships()',
  format($$values (%L::uuid)$$, tests.id('org_b')), 'org B still waits for vic');
select results_eq('select organization_id from public.claim_provisioned_memberships()',
  format($$values (%L::uuid)$$, tests.id('org_b')), 'a claim naming no organization joins every one waiting');
select tests.authenticate_verified(tests.id('kim'));
select results_eq('select organization_id from public.claim_provisioned_memberships()',
  format($$values (%L::uuid)$$, tests.id('org_b')), 'kim''s claim joins org B');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_a'), tests.id('vic')), 'manager', 'vic is a member of org A');
select is((select user_id from core.scim_users where id = tests.id('una_a')), null, 'una, who claimed nothing, is still pending');
select is((select count(*) from core.scim_request_actors), 0::bigint, 'no actor row is left behind');

select * from finish();
rollback;
