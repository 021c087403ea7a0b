-- Seats of pending SCIM users who are members already (Schema/migrations/0119), under the
-- Supabase adapter, whose proof of an address is GoTrue's auth.users: a pending SCIM user whose
-- address a live member of the organization confirmed is that member, and holds no second seat.
-- Refused side: an address a non-member confirmed, a member's unconfirmed address and an
-- address nobody holds still reserve a seat each, and a full organization refuses them with
-- nothing written; a member who leaves before claiming hands the seat to the reservation.
begin;
select plan(16);
select tests.world();

create table auth.users (
  id uuid primary key, email text, email_confirmed_at timestamptz, last_sign_in_at timestamptz,
  raw_user_meta_data jsonb
);
select core.attach_scim_binding_to_auth_users();

insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
-- Org A: owner, manager, team, member, loner (5 members), no verified domain (every SCIM user
-- stays pending until claimed), and a limit of 5: full.
insert into platform.platform_subscription_overrides (organization_id, plan_override, features, reason)
values (tests.id('org_a'), '', '{"max_members": 5}', 'full organization');
insert into auth.users (id, email, email_confirmed_at) values
  (tests.id('member_a'), 'member.a@smta.test', now()),
  (tests.id('team_a'), 'team.a@smta.test', now()),
  (tests.id('stranger'), 'stranger@smta.test', now()),
  (tests.id('loner_a'), 'loner.a@smta.test', null);
select is(core.seats_taken(tests.id('org_a')), 5::bigint, 'five members: five seats, the limit');

-- A member's confirmed address: provisioned in a full organization, pending, no second seat.
select tests.authenticate_service_role();
select lives_ok(format($$select tests.remember('member_scim', id) from platform.scim_create_user(%L, '{"user_name": "member", "email": "member.a@smta.test"}')$$, tests.id('tok_a')),
  'a full organization provisions one of its members');
select lives_ok(format($$select tests.remember('team_scim', id) from platform.scim_create_user(%L, '{"user_name": "team", "email": "team.a@smta.test"}')$$, tests.id('tok_a')),
  'and another');
select tests.reset_identity();
select is((select count(*) from core.scim_users where id in (tests.id('member_scim'), tests.id('team_scim')) and user_id is null),
  2::bigint, 'both pending: outside a verified domain they wait for their claim');
select is(core.seats_taken(tests.id('org_a')), 5::bigint, 'still five seats: each is its member''s own');

-- Refused side: each of these reserves a seat the full organization does not have.
select tests.authenticate_service_role();
select throws_ok(format($$select * from platform.scim_create_user(%L, '{"user_name": "stranger", "email": "stranger@smta.test"}')$$, tests.id('tok_a')),
  'P0001', 'The organization has reached its seat limit of 5 members', 'an address a non-member confirmed reserves a seat');
select throws_ok(format($$select * from platform.scim_create_user(%L, '{"user_name": "loner", "email": "loner.a@smta.test"}')$$, tests.id('tok_a')),
  'P0001', 'The organization has reached its seat limit of 5 members', 'so does a member''s address nobody confirmed');
select throws_ok(format($$select * from platform.scim_create_user(%L, '{"user_name": "nobody", "email": "nobody@elsewhere.test"}')$$, tests.id('tok_a')),
  'P0001', 'The organization has reached its seat limit of 5 members', 'and an address nobody holds');
select tests.reset_identity();
select is((select count(*) from core.scim_users where organization_id = tests.id('org_a')), 2::bigint,
  'the refused provisionings wrote no SCIM user');
select is((select count(*) from core.memberships where organization_id = tests.id('org_a') and not is_deleted), 5::bigint,
  'nor any membership');

-- The claim adopts the membership: no seat moves.
select tests.authenticate_verified(tests.id('member_a'));
select is((select count(*) from public.claim_provisioned_memberships()), 1::bigint, 'the member claims the SCIM user');
select tests.reset_identity();
select is((select user_id from core.scim_users where id = tests.id('member_scim')), tests.id('member_a'), 'bound to the member');
select is(core.seats_taken(tests.id('org_a')), 5::bigint, 'five seats after the claim');

-- A member who leaves before claiming: the reservation takes the seat back.
select tests.authenticate_as(tests.id('owner_a'));
select public.remove_member_from_organization(tests.id('org_a'), tests.id('team_a'));
select tests.reset_identity();
select is(core.seats_taken(tests.id('org_a')), 5::bigint, 'four members and the reservation team''s SCIM user now holds');
select tests.authenticate_service_role();
select throws_ok(format($$select * from platform.scim_create_user(%L, '{"user_name": "nobody", "email": "nobody@elsewhere.test"}')$$, tests.id('tok_a')),
  'P0001', 'The organization has reached its seat limit of 5 members', 'so the organization is still full');
select tests.reset_identity();
-- An expired membership is no member's seat either.
update core.memberships set expires_at = now() - interval '1 minute'
where organization_id = tests.id('org_a') and user_id = tests.id('member_a');
select is(core.seats_taken(tests.id('org_a')), 4::bigint,
  'an expired member''s bound SCIM user holds no seat: three members and team''s reservation');

select * from finish();
rollback;
