-- SCIM provisioning, binding (issue 18): a pending SCIM user binds, with no invitation, to the
-- user who signs in with that address VERIFIED (public.claim_provisioned_memberships, under
-- each adapter's own proof: tests.authenticate_verified). An address the platform did not
-- verify binds nothing; addresses compare lowercased; one address provisioned by two
-- organizations joins both; an inactive pending user binds without joining.
begin;
select plan(17);
select tests.world();

insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_a'), 'Okta A', repeat('a', 64)) returning tests.remember('tok_a', id);
insert into core.scim_tokens (organization_id, label, token_hash)
values (tests.id('org_b'), 'Entra B', repeat('b', 64)) returning tests.remember('tok_b', id);
select tests.remember('gail', tests.create_user('Gail.Mixed@Corp.Example', 'Gail', 'Mixed'));
select tests.remember('hal', tests.create_user('hal@corp.example', 'Hal', 'Inactive'));

select tests.authenticate_service_role();
select tests.remember('gail_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "gail", "email": "GAIL.MIXED@corp.example"}');
select tests.remember('gail_b', id) from platform.scim_create_user(tests.id('tok_b'), '{"user_name": "gail", "email": "gail.mixed@corp.example", "role": "manager"}');
select tests.remember('hal_a', id) from platform.scim_create_user(tests.id('tok_a'), '{"user_name": "hal", "email": "hal@corp.example", "active": false}');

-- What the bridge asks before binding a Payload sign-in: pending, for any case of the address.
select is(platform.scim_users_pending(' Gail.MIXED@corp.example '), true, 'a pending address is reported, whatever its case');
select is(platform.scim_users_pending('hal@corp.example'), false, 'an inactive pending user is not');
select is(platform.scim_users_pending('nobody@corp.example'), false, 'nor an address nobody provisioned');

-- Signed in, but the platform never verified the address: nothing binds.
select tests.authenticate_as(tests.id('gail'));
select is(core.current_user_verified_email(), null, 'gail is signed in without a verified email');
select is((select count(*) from public.claim_provisioned_memberships()), 0::bigint, 'an unverified email claims nothing');
select tests.reset_identity();
select is((select count(*) from core.scim_users where id in (tests.id('gail_a'), tests.id('gail_b')) and user_id is not null), 0::bigint,
  'both SCIM users stay pending');
select is(tests.membership_state(tests.id('org_a'), tests.id('gail')), 'none', 'and gail is no member');

-- Another signed-in user with a verified address of their own claims nothing of hers.
select tests.authenticate_verified(tests.id('stranger'));
select is((select count(*) from public.claim_provisioned_memberships()), 0::bigint, 'someone else''s verified email claims nothing of hers');

-- Verified (stored in another case): both organizations.
select tests.authenticate_verified(tests.id('gail'));
select results_eq('select organization_id, role from public.claim_provisioned_memberships() order by 1',
  format($$select * from (values (%L::uuid, 'team'), (%L::uuid, 'manager')) as v order by 1$$, tests.id('org_a'), tests.id('org_b')),
  'verified, in any case, the address joins both organizations that provisioned it, with their roles');
select ok(tests.id('org_a') = any (core.current_user_org_ids()) and tests.id('org_b') = any (core.current_user_org_ids()),
  'the gate lets gail into both at once');
select is((select count(*) from public.claim_provisioned_memberships()), 0::bigint, 'claiming again finds nothing left');
select tests.reset_identity();
select is((select count(*) from core.scim_users where user_id = tests.id('gail')), 2::bigint, 'both SCIM users are bound to her');
select is((select consented_at is not null from core.memberships where user_id = tests.id('gail') and organization_id = tests.id('org_a')), true,
  'the membership is consented (the organization named her address itself)');

-- An inactive pending user binds, but joins nothing until activated.
select tests.authenticate_verified(tests.id('hal'));
select is((select count(*) from public.claim_provisioned_memberships()), 0::bigint, 'an inactive provisioned user joins nothing');
select tests.reset_identity();
select is((select user_id from core.scim_users where id = tests.id('hal_a')), tests.id('hal'), 'but is bound');
select tests.authenticate_service_role();
select lives_ok(format($$select * from platform.scim_update_user(%L, %L, '{"active": true}')$$, tests.id('tok_a'), tests.id('hal_a')),
  'the identity provider activates him');
select tests.reset_identity();
select is(tests.membership_role(tests.id('org_a'), tests.id('hal')), 'team', 'and he is a member at once');

select * from finish();
rollback;
