-- SCIM provisioning, consent (issue 18): a pending SCIM user binds without its holder's consent
-- only when its address is in one of the provisioning organization's VERIFIED domains (exactly
-- that domain). Any other address (x@outside.example) waits: the binding of a sign-in
-- (claim_provisioned_memberships(p_within_verified_domains => true), what the bridge calls
-- under Payload) leaves it pending; list_provisioned_memberships shows it to its verified
-- holder alone; claim_provisioned_memberships() — their consent — binds it. A domain org A
-- verified binds nothing of org B's; a pending (unverified) domain claim counts for nothing.
-- The at-once binding and the adapters' triggers: supabase/scim_consent.sql, oidc/scim_consent.sql.
begin;
select plan(36);
select tests.world();

insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_b'), 'Entra B', repeat('b', 64)) returning tests.remember('tok_b', id);
-- Org A verified corp.example and claims pending.example (not verified yet); org B claims
-- corp.example too, unverified (it cannot verify it: org A has).
insert into core.organization_domains (organization_id, domain, verification_token, role_id, verified_at)
values (tests.id('org_a'), 'corp.example', 'corp-a', tests.role_id('team'), now()),
       (tests.id('org_a'), 'pending.example', 'pending-a', tests.role_id('team'), null),
       (tests.id('org_b'), 'corp.example', 'corp-b', tests.role_id('team'), null);

select tests.remember('vic', tests.create_user('vic@outside.example', 'Vic', 'Outside'));
select tests.remember('cora', tests.create_user('cora@corp.example', 'Cora', 'Company'));
select tests.remember('pia', tests.create_user('pia@pending.example', 'Pia', 'Pending'));
select tests.remember('bo', tests.create_user('bo@corp.example', 'Bo', 'Elsewhere'));
select tests.remember('mallory', tests.create_user('mallory@outside.example', 'Mallory', 'Unverified'));

-- Vic's address is verified before the provisioning (under Supabase the database then knows
-- it: supabase/scim_consent.sql shows the same without this suite's shortcuts).
select tests.authenticate_verified(tests.id('vic'));
select tests.reset_identity();

-- Org A provisions vic (outside its domains), cora (its verified domain), pia (its pending
-- domain); org B provisions vic too, and bo at corp.example (org A's verified domain).
select tests.authenticate_service_role();
select tests.remember('vic_a', id) from platform.scim_create_user(tests.id('tok_a'),
  '{"user_name": "vic", "email": "vic@outside.example", "role": "manager"}');
select tests.remember('cora_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "cora", "email": "cora@corp.example"}');
select tests.remember('pia_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "pia", "email": "pia@pending.example"}');
select tests.remember('vic_b', id) from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "vic", "email": "vic@outside.example"}');
select tests.remember('bo_b', id) from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "bo", "email": "bo@corp.example"}');
select tests.reset_identity();

select is((select count(*) from core.scim_users where user_id is not null), 0::bigint,
  'nothing binds at once: every SCIM user is pending');
select is(tests.membership_state(tests.id('org_a'), tests.id('vic')) || '/' || tests.membership_state(tests.id('org_b'), tests.id('vic')),
  'none/none', 'vic is a member of neither organization');

-- A fingerprint of the SCIM rows, the memberships and their audit rows, to assert what a call
-- that must bind nothing left alone.
create function pg_temp.state() returns text
language sql security definer set search_path = '' as $$
  select md5(coalesce((select string_agg(s::text, ',' order by s.id) from core.scim_users s), '')
             || coalesce((select string_agg(m::text, ',' order by m.id) from core.memberships m), '')
             || (select count(*) from core.audit_logs a
                 where a.target_table in ('core.scim_users', 'core.memberships', 'core.unit_memberships'))::text)
$$;
create temporary table before_state (v text) on commit drop;
grant all on before_state to public;
create function pg_temp.snap() returns void language sql as $$
  delete from before_state; insert into before_state select pg_temp.state();
$$;
create function pg_temp.unchanged() returns boolean language sql as $$
  select pg_temp.state() = (select v from before_state);
$$;

-- ---------------------------------------------------------------------------------------------
-- A sign-in binds only the verified domains' addresses
-- ---------------------------------------------------------------------------------------------
select pg_temp.snap();
select tests.authenticate_verified(tests.id('vic'));
select is((select count(*) from public.claim_provisioned_memberships(p_within_verified_domains => true)), 0::bigint,
  'vic''s sign-in binding (within verified domains) joins nothing: outside.example is no domain of theirs');
select is((select count(*) from public.claim_provisioned_memberships(null)), 0::bigint, 'null reads as true: nothing either');
select ok(not (tests.id('org_a') = any (core.current_user_org_ids())), 'the gate does not let vic into org A');
select tests.reset_identity();
select ok(pg_temp.unchanged(), 'no SCIM user, membership or audit row changed');
select is((select count(*) from core.scim_users where id in (tests.id('vic_a'), tests.id('vic_b')) and user_id is null), 2::bigint,
  'both of vic''s SCIM users stay pending');

select pg_temp.snap();
select tests.authenticate_verified(tests.id('pia'));
select is((select count(*) from public.claim_provisioned_memberships(true)), 0::bigint,
  'a domain org A claimed but never verified binds nothing at sign-in');
select tests.reset_identity();
select ok(pg_temp.unchanged(), 'pia''s SCIM user and memberships are untouched');
select is(tests.membership_state(tests.id('org_a'), tests.id('pia')), 'none', 'pia is no member');

select pg_temp.snap();
select tests.authenticate_verified(tests.id('bo'));
select is((select count(*) from public.claim_provisioned_memberships(true)), 0::bigint,
  'org A''s verified domain binds nothing org B provisioned (org B''s own claim of it is unverified)');
select tests.reset_identity();
select ok(pg_temp.unchanged(), 'bo''s SCIM user and memberships are untouched');
select is(tests.membership_state(tests.id('org_b'), tests.id('bo')), 'none', 'bo is no member of org B');

select tests.authenticate_verified(tests.id('cora'));
select results_eq('select organization_id, organization_name, role from public.claim_provisioned_memberships(p_within_verified_domains => true)',
  format($$values (%L::uuid, 'Org A', 'team')$$, tests.id('org_a')),
  'cora''s sign-in binding joins org A: corp.example is its verified domain');
select tests.reset_identity();
select is((select user_id from core.scim_users where id = tests.id('cora_a')), tests.id('cora'), 'cora''s SCIM user is bound');
select is(tests.membership_role(tests.id('org_a'), tests.id('cora')), 'team', 'and she is a member with the SCIM role');

-- ---------------------------------------------------------------------------------------------
-- What is waiting: the verified holder alone sees it
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_verified(tests.id('vic'));
select results_eq('select organization_id, organization_name, role from public.list_provisioned_memberships()',
  format($$values (%L::uuid, 'Org A', 'manager'), (%L::uuid, 'Org B', 'team')$$, tests.id('org_a'), tests.id('org_b')),
  'vic sees both organizations whose directories added them, with the roles they would have');
select tests.authenticate_verified(tests.id('pia'));
select results_eq('select organization_id, role from public.list_provisioned_memberships()',
  format($$values (%L::uuid, 'team')$$, tests.id('org_a')), 'pia sees org A');
select tests.authenticate_verified(tests.id('cora'));
select is((select count(*) from public.list_provisioned_memberships()), 0::bigint, 'cora, bound already, sees nothing waiting');
select tests.authenticate_verified(tests.id('stranger'));
select is((select count(*) from public.list_provisioned_memberships()), 0::bigint,
  'another user with a verified address of their own sees nothing of vic''s');
select tests.authenticate_as(tests.id('mallory'), 'vic@outside.example');
select is(core.current_user_verified_email(), null, 'mallory signs in with vic''s address, unverified');
select is((select count(*) from public.list_provisioned_memberships()), 0::bigint, 'and sees nothing');
select is((select count(*) from public.claim_provisioned_memberships()), 0::bigint, 'nor claims anything');
select tests.authenticate_verified(tests.id('owner_a'));
select is((select count(*) from public.list_provisioned_memberships()), 0::bigint, 'an owner sees nothing of the people provisioned');
select tests.authenticate_anon();
select tests.refused('select * from public.list_provisioned_memberships()', 'nobody signed in is refused', '{42501}');
select tests.reset_identity();
select is((select count(*) from core.scim_users where id in (tests.id('vic_a'), tests.id('vic_b')) and user_id is null), 2::bigint,
  'vic''s SCIM users are still pending');

-- ---------------------------------------------------------------------------------------------
-- Consent: the holder's own claim binds the rest
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_verified(tests.id('vic'));
select results_eq('select organization_id, organization_name, role from public.claim_provisioned_memberships()',
  format($$values (%L::uuid, 'Org A', 'manager'), (%L::uuid, 'Org B', 'team')$$, tests.id('org_a'), tests.id('org_b')),
  'vic''s claim joins both organizations, outside their verified domains');
select ok(tests.id('org_a') = any (core.current_user_org_ids()) and tests.id('org_b') = any (core.current_user_org_ids()),
  'the gate lets vic into both');
select is((select count(*) from public.list_provisioned_memberships()), 0::bigint, 'nothing is waiting any more');
select tests.reset_identity();
select is((select count(*) from core.scim_users where id in (tests.id('vic_a'), tests.id('vic_b')) and user_id = tests.id('vic')),
  2::bigint, 'both SCIM users are bound to vic');
select ok((select bool_and(consented_at is not null) from core.memberships where user_id = tests.id('vic')),
  'the memberships are consented');
select ok((select bool_and(a.actor_id = tests.id('vic')) from core.audit_logs a
           where a.target_table = 'core.memberships' and a.action = 'insert' and a.target_id in
             (select m.id from core.memberships m where m.user_id = tests.id('vic'))),
  'audited as vic''s own act');

select tests.authenticate_verified(tests.id('pia'));
select is((select count(*) from public.claim_provisioned_memberships()), 1::bigint, 'pia''s claim joins org A');
select tests.authenticate_verified(tests.id('bo'));
select is((select count(*) from public.claim_provisioned_memberships(false)), 1::bigint, 'bo''s claim joins org B');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_b'), tests.id('bo')), 'team', 'bo is a member of org B');
select is((select count(*) from core.scim_users where user_id is null), 0::bigint, 'nobody is pending any more');

select * from finish();
rollback;
