-- Seat limit: limits.max_members of the organization's plan (or its override) caps its live
-- members. Inviting into a full organization, accepting into one and any other membership
-- that would become live are refused with P0001 and a clear message; there is no limit
-- without an entitling plan or without max_members; a removed member frees a seat.
begin;
select plan(13);

select tests.world();
insert into platform.subscription_products (paymentprocessor_price_id, name, billing_interval, amount, metadata)
values ('price_six', 'Six seats', 'month', 1900, '{"features": [], "limits": {"max_members": 6}}');
select tests.remember('guest1', tests.create_user('guest1@smta.test'));
select tests.remember('guest2', tests.create_user('guest2@smta.test'));
select tests.remember('guest3', tests.create_user('guest3@smta.test'));

-- Without a plan: no limit. org_a has 5 live members.
select lives_ok(format('select tests.add_member(%L, %L)', tests.id('org_a'), tests.id('guest1')),
  'without a plan there is no limit');
select is(tests.membership_state(tests.id('org_a'), tests.id('guest1')), 'live', 'the sixth member joined');

-- Org A subscribes to six seats: it is now full.
select tests.authenticate_service_role();
select outcome from platform.record_billing_event('stripe', null, jsonb_build_object(
  'id', 'evt_seats', 'type', 'customer.subscription.created', 'created', 1767225600,
  'data', jsonb_build_object('object', jsonb_build_object('id', 'sub_seats', 'customer', 'cus_seats',
    'status', 'active', 'cancel_at_period_end', false, 'current_period_end', 4102444800,
    'metadata', jsonb_build_object('organization_id', tests.id('org_a')),
    'items', jsonb_build_object('data', jsonb_build_array(jsonb_build_object('price', jsonb_build_object('id', 'price_six'))))))));

select tests.authenticate_as(tests.id('owner_a'));
select throws_ok(format('select * from public.create_invitation(%L, %L, %L)', 'guest2@smta.test', tests.id('org_a'), tests.role_id('team')),
  'P0001', 'The organization has reached its seat limit of 6 members',
  'inviting into a full organization is refused with a clear P0001');
select is(tests.count_rows('core.invitations', jsonb_build_object('email', 'guest2@smta.test')), 0::bigint,
  'no invitation was created');
reset role;
select throws_ok(format('select tests.add_member(%L, %L)', tests.id('org_a'), tests.id('guest2')),
  'P0001', 'The organization has reached its seat limit of 6 members',
  'a direct membership insert beyond the limit is refused');

-- A removed member frees a seat; an invitation then goes out, and a second one too (pending
-- invitations hold no seat), but only the first acceptance fits.
select tests.authenticate_as(tests.id('owner_a'));
select lives_ok(format('select public.remove_member_from_organization(%L, %L)', tests.id('org_a'), tests.id('guest1')),
  'the owner removes a member');
select set_config('tests.token2', (select token from public.create_invitation('guest2@smta.test', tests.id('org_a'), tests.role_id('team'))), true) is not null
  as invited2;
select set_config('tests.token3', (select token from public.create_invitation('guest3@smta.test', tests.id('org_a'), tests.role_id('team'))), true) is not null
  as invited3;
select tests.authenticate_as(tests.id('guest2'), 'guest2@smta.test');
select lives_ok(format('select * from public.accept_invitation(%L)', current_setting('tests.token2')),
  'an invitation accepted while a seat is free joins');
select tests.authenticate_as(tests.id('guest3'), 'guest3@smta.test');
select throws_ok(format('select * from public.accept_invitation(%L)', current_setting('tests.token3')),
  'P0001', 'The organization has reached its seat limit of 6 members',
  'accepting into a full organization is refused');
select is(tests.membership_state(tests.id('org_a'), tests.id('guest3')), 'none', 'the invitee did not join');

-- Reviving a removed member is a new seat too.
reset role;
select throws_ok(format('update core.memberships set is_deleted = false, deleted_at = null where organization_id = %L and user_id = %L',
                        tests.id('org_a'), tests.id('guest1')),
  'P0001', 'The organization has reached its seat limit of 6 members',
  'reviving a removed member beyond the limit is refused');

-- The override raises the limit, or removes it (JSON null).
select tests.authenticate_service_role();
select platform.set_platform_override(tests.id('org_a'), 'max_members', '7');
select tests.authenticate_as(tests.id('guest3'), 'guest3@smta.test');
select lives_ok(format('select * from public.accept_invitation(%L)', current_setting('tests.token3')),
  'an override of max_members raises the limit');
reset role;
select throws_ok(format('select tests.add_member(%L, %L)', tests.id('org_a'), tests.id('guest1')),
  '23505', null, 'at seven of seven, re-adding stays a conflict on the existing row, not a new seat');
select tests.authenticate_service_role();
select platform.set_platform_override(tests.id('org_a'), 'max_members', 'null');
reset role;
select lives_ok(format('update core.memberships set is_deleted = false, deleted_at = null where organization_id = %L and user_id = %L',
                       tests.id('org_a'), tests.id('guest1')),
  'an override of null removes the limit');

select tests.reset_identity();
select * from finish();
rollback;
