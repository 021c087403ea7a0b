-- SCIM binding under the Supabase adapter (Adapters/Supabase/SQL/0004_scim_binding.sql): GoTrue's
-- auth.users is the proof. Within the organization's verified domain (corp.example, verified by
-- org A here: the binding mechanics), a provisioning that names a confirmed user's address binds
-- at once; a pending one binds when its user is confirmed or signs in (the trigger on
-- auth.users), with no call from the bridge. Unconfirmed addresses, user_metadata, an address
-- two users share and the owner's address bind nothing, and a refused binding never fails a
-- sign-in. Addresses outside the verified domains: supabase/scim_consent.sql.
begin;
select plan(17);
select tests.world();

-- GoTrue's table, as this suite's database has none: then the trigger, as the migration makes
-- it where auth.users exists.
create table auth.users (
  id uuid primary key, email text, email_confirmed_at timestamptz, last_sign_in_at timestamptz,
  raw_user_meta_data jsonb
);
select core.attach_scim_binding_to_auth_users();
select is((select count(*) from pg_trigger where tgrelid = 'auth.users'::regclass and tgname = 'trg_scim_binding'), 1::bigint,
  'the binding trigger is on auth.users');

insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
insert into core.organization_domains (organization_id, domain, verification_token, role_id, verified_at)
values (tests.id('org_a'), 'corp.example', 'corp-a', tests.role_id('team'), now());
select tests.remember('ivy', gen_random_uuid());
select tests.remember('jo', gen_random_uuid());
select tests.remember('kim', gen_random_uuid());

-- A confirmed user already in auth.users: provisioning binds at once.
insert into auth.users (id, email, email_confirmed_at) values (tests.id('kim'), 'kim@corp.example', now());
select tests.authenticate_service_role();
select is((select user_id from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "kim", "email": "Kim@Corp.example", "role": "manager"}')),
  tests.id('kim'), 'an address auth.users holds confirmed binds at once');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_a'), tests.id('kim')), 'manager', 'kim is a member at once, with the SCIM role');

-- Pending until confirmed; user_metadata proves nothing.
select tests.authenticate_service_role();
select tests.remember('ivy_scim', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "ivy", "email": "ivy@corp.example"}');
select tests.reset_identity();
insert into auth.users (id, email, raw_user_meta_data) values (tests.id('ivy'), 'ivy@corp.example', '{"email_verified": true}');
update auth.users set last_sign_in_at = now() where id = tests.id('ivy');
select is((select user_id from core.scim_users where id = tests.id('ivy_scim')), null,
  'an unconfirmed sign-up, with user_metadata saying verified, binds nothing');
select is(tests.membership_state(tests.id('org_a'), tests.id('ivy')), 'none', 'and joins nothing');
select tests.authenticate_as(tests.id('ivy'));
select is((select count(*) from public.claim_provisioned_memberships()), 0::bigint, 'nor can ivy claim it herself');
select tests.reset_identity();
update auth.users set email_confirmed_at = now() where id = tests.id('ivy');
select is((select user_id from core.scim_users where id = tests.id('ivy_scim')), tests.id('ivy'), 'confirming the address binds it');
select is(tests.membership_role(tests.id('org_a'), tests.id('ivy')), 'team', 'and ivy is a member, with no call from the bridge');

-- Confirmed before the provisioning, stored in another case: bound at the next sign-in.
insert into auth.users (id, email, email_confirmed_at) values (tests.id('jo'), 'Jo@Corp.example', now());
select tests.authenticate_service_role();
select tests.remember('jo_scim', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "jo", "email": "jo@corp.example"}');
select is((select user_id from platform.scim_get_user(tests.id('tok_a'), tests.id('jo_scim'))), null,
  'the exact lookup misses an address stored in another case: pending');
select tests.reset_identity();
update auth.users set last_sign_in_at = now() where id = tests.id('jo');
select is((select user_id from core.scim_users where id = tests.id('jo_scim')), tests.id('jo'), 'jo''s next sign-in binds it');

-- An address two users share (SSO users may) binds neither.
insert into auth.users (id, email, email_confirmed_at)
values (gen_random_uuid(), 'shared@corp.example', now()), (gen_random_uuid(), 'shared@corp.example', now());
select tests.authenticate_service_role();
select is((select tests.remember('shared_scim', id) is not null and user_id is null
           from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "shared", "email": "shared@corp.example"}')),
  true, 'an address two confirmed users share binds neither: pending');

-- The owner's confirmed address is refused.
select tests.reset_identity();
insert into auth.users (id, email, email_confirmed_at) values (tests.id('owner_a'), 'owner.a@smta.test', now());
select tests.authenticate_service_role();
select tests.refused(format($$select * from platform.scim_create_user(%L, '{"user_name": "owner", "email": "owner.a@smta.test"}')$$, tests.id('tok_a')),
  'provisioning the owner''s confirmed address is refused', '{42501}');
select tests.refused(format($$select * from platform.scim_update_user(%L, %L, '{"email": "owner.a@smta.test"}')$$, tests.id('tok_a'), tests.id('shared_scim')),
  'and so is changing a pending SCIM user''s address to it', '{42501}');
select tests.reset_identity();
select is((select count(*) from core.scim_users where email = 'owner.a@smta.test'), 0::bigint, 'no SCIM user carries the owner''s address');

-- A binding the schema refuses (the plan shrank below the reservations) never fails a sign-in.
select tests.authenticate_service_role();
select tests.remember('lee_scim', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "lee", "email": "lee@corp.example"}');
select tests.reset_identity();
insert into platform.platform_subscription_overrides (organization_id, plan_override, features, reason)
values (tests.id('org_a'), '', '{"max_members": 2}', 'shrunk plan');
select lives_ok($$insert into auth.users (id, email, email_confirmed_at) values (gen_random_uuid(), 'lee@corp.example', now())$$,
  'the sign-up of a pending address in an organization over its limit goes through');
select is((select user_id from core.scim_users where id = tests.id('lee_scim')), null, 'and the SCIM user stays pending');
select is((select count(*) from core.scim_request_actors), 0::bigint, 'no actor row is left behind');

select * from finish();
rollback;
