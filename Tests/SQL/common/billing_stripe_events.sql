-- Stripe webhook events through platform.record_billing_event: each verified event is stored
-- once in platform.billing_events and drives platform.billing_subscriptions / billing_customers;
-- duplicates change nothing, older events never overwrite newer state, events that cannot be
-- applied are recorded with their reason and never create anything for an unknown
-- organization. Who may call it, and bad input, are checked first.
begin;
select plan(65);

select tests.world();
insert into platform.subscription_products (paymentprocessor_price_id, name, billing_interval, amount, metadata)
values ('price_pro_monthly', 'Pro', 'month', 2900, '{"features": ["sso"], "limits": {"max_members": 10}}'),
       ('price_team_monthly', 'Team', 'month', 9900, '{"features": ["sso", "audit_export"]}');

-- A customer.subscription.* event as Stripe sends it (API 2025: the period on the item).
create function pg_temp.sub_event(
  p_event text, p_type text, p_created bigint, p_sub text, p_org uuid, p_customer text,
  p_price text, p_status text, p_cancel boolean default false
) returns jsonb language sql as $$
  select jsonb_build_object(
    'id', p_event, 'object', 'event', 'type', p_type, 'created', p_created, 'livemode', false,
    'api_version', '2025-03-31.basil',
    'data', jsonb_build_object('object', jsonb_build_object(
      'id', p_sub, 'object', 'subscription', 'customer', p_customer, 'status', p_status,
      'cancel_at_period_end', p_cancel, 'created', p_created,
      'metadata', case when p_org is null then '{}'::jsonb else jsonb_build_object('organization_id', p_org) end,
      'items', jsonb_build_object('object', 'list', 'data', jsonb_build_array(jsonb_build_object(
        'id', 'si_' || p_sub, 'object', 'subscription_item', 'current_period_end', 4102444800,
        'price', jsonb_build_object('id', p_price, 'object', 'price', 'recurring', jsonb_build_object('interval', 'month')))))
    )));
$$;
grant execute on function pg_temp.sub_event(text, text, bigint, text, uuid, text, text, text, boolean) to public;

create function pg_temp.record(p_payload jsonb) returns text language sql as $$
  select r.outcome from platform.record_billing_event('stripe', null, p_payload) as r;
$$;
grant execute on function pg_temp.record(jsonb) to public;

create function pg_temp.sub(p_sub text) returns jsonb language sql security definer as $$
  select to_jsonb(bs) from platform.billing_subscriptions bs where bs.provider_subscription_id = p_sub;
$$;
grant execute on function pg_temp.sub(text) to public;

create function pg_temp.ledger(p_event text) returns jsonb language sql security definer as $$
  select to_jsonb(e) from platform.billing_events e where e.event_id = p_event;
$$;
grant execute on function pg_temp.ledger(text) to public;

-- ---------------------------------------------------------------------------------------------
-- Who may call it
-- ---------------------------------------------------------------------------------------------
select ok(not has_function_privilege('anon', 'platform.record_billing_event(text, text, jsonb)', 'EXECUTE'),
  'anon may not execute record_billing_event');
select ok(not has_function_privilege('authenticated', 'platform.record_billing_event(text, text, jsonb)', 'EXECUTE'),
  'authenticated may not execute record_billing_event');
select ok(has_function_privilege('service_role', 'platform.record_billing_event(text, text, jsonb)', 'EXECUTE')
          and has_function_privilege('app_admin', 'platform.record_billing_event(text, text, jsonb)', 'EXECUTE'),
  'the service role and app_admin (the bridge) may execute it');

select tests.authenticate_as(tests.id('owner_a'));
select tests.refused(format('select count(*) from platform.record_billing_event(%L, null, %L)', 'stripe',
    pg_temp.sub_event('evt_tenant', 'customer.subscription.created', 1767225600, 'sub_tenant', tests.id('org_a'), 'cus_t', 'price_pro_monthly', 'active')),
  'an organization owner cannot record a billing event', '{42501}');
select tests.authenticate_anon();
select tests.refused(format('select count(*) from platform.record_billing_event(%L, null, %L)', 'stripe',
    pg_temp.sub_event('evt_anon', 'customer.subscription.created', 1767225600, 'sub_anon', tests.id('org_a'), 'cus_t', 'price_pro_monthly', 'active')),
  'anon cannot record a billing event', '{42501}');
select tests.authenticate_service_role(tests.id('owner_a'));
select tests.refused(format('select count(*) from platform.record_billing_event(%L, null, %L)', 'stripe',
    pg_temp.sub_event('evt_behalf', 'customer.subscription.created', 1767225600, 'sub_behalf', tests.id('org_a'), 'cus_t', 'price_pro_monthly', 'active')),
  'the service role acting for a user who is no platform super_admin is refused', '{42501}');

-- ---------------------------------------------------------------------------------------------
-- Bad input: 22023 and nothing written
-- ---------------------------------------------------------------------------------------------
select tests.authenticate_service_role();
select tests.refused($$select count(*) from platform.record_billing_event('paypal', null, '{"id": "evt_1"}')$$,
  'an unknown provider is refused', '{22023}');
select tests.refused($$select count(*) from platform.record_billing_event(null, null, '{"id": "evt_1"}')$$,
  'a null provider is refused', '{22023}');
select tests.refused($$select count(*) from platform.record_billing_event('stripe', null, '{"type": "customer.subscription.updated"}')$$,
  'a Stripe event without an id is refused', '{22023}');
select tests.refused($$select count(*) from platform.record_billing_event('stripe', 'evt_other', '{"id": "evt_1", "type": "x"}')$$,
  'a Stripe event id that differs from the payload''s is refused', '{22023}');
select tests.refused($$select count(*) from platform.record_billing_event('stripe', null, '[1, 2]')$$,
  'a payload that is not a JSON object is refused', '{22023}');
select tests.refused($$select count(*) from platform.record_billing_event('stripe', null, null)$$,
  'a null payload is refused', '{22023}');
select tests.refused($$select count(*) from platform.record_billing_event('lemon_squeezy', null, '{"meta": {"event_name": "subscription_created"}}')$$,
  'a Lemon Squeezy event without the derived id is refused', '{22023}');
select tests.refused($$select count(*) from platform.record_billing_event('lemon_squeezy', 'ls_not-hex', '{"meta": {"event_name": "subscription_created"}}')$$,
  'a Lemon Squeezy id that is not ls_ + SHA-256 hex is refused', '{22023}');

-- ---------------------------------------------------------------------------------------------
-- A subscription is created, updated, replayed, reordered
-- ---------------------------------------------------------------------------------------------
select results_eq(
  format('select outcome, reason from platform.record_billing_event(%L, null, %L)', 'stripe',
    pg_temp.sub_event('evt_a1', 'customer.subscription.created', 1767225600, 'sub_a', tests.id('org_a'), 'cus_a', 'price_pro_monthly', 'trialing')),
  $$values ('applied'::text, null::text)$$,
  'customer.subscription.created for a known organization and price is applied, one row back');
select is(pg_temp.sub('sub_a') ->> 'organization_id', tests.id('org_a')::text, 'the subscription belongs to the metadata''s organization');
select is(pg_temp.sub('sub_a') ->> 'plan', 'Pro', 'plan is the product''s name');
select is(pg_temp.sub('sub_a') ->> 'provider_price_id', 'price_pro_monthly', 'the price id is kept');
select is(pg_temp.sub('sub_a') ->> 'status', 'trialing', 'the status is Stripe''s');
select is(pg_temp.sub('sub_a') ->> 'provider', 'stripe', 'provider stripe');
select is((pg_temp.sub('sub_a') ->> 'current_period_end')::timestamptz, to_timestamp(4102444800),
  'current_period_end is read from the subscription item (newer API versions)');
select is((pg_temp.sub('sub_a') ->> 'last_event_at')::timestamptz, to_timestamp(1767225600), 'last_event_at is the event''s created');
select is(tests.count_rows('platform.billing_customers',
    jsonb_build_object('organization_id', tests.id('org_a'), 'provider_customer_id', 'cus_a', 'provider', 'stripe')),
  1::bigint, 'the Stripe customer is linked to the organization');
select is(pg_temp.ledger('evt_a1') - 'id' - 'received_at' - 'payload',
  jsonb_build_object('provider', 'stripe', 'event_id', 'evt_a1', 'event_type', 'customer.subscription.created',
    'occurred_at', to_timestamp(1767225600), 'provider_subscription_id', 'sub_a',
    'organization_id', tests.id('org_a'), 'outcome', 'applied', 'reason', null),
  'the ledger row records provider, id, type, time, subscription, organization and outcome');
select is(pg_temp.ledger('evt_a1') -> 'payload' ->> 'id', 'evt_a1', 'the ledger keeps the payload as received');

-- Replay: nothing changes.
select set_config('tests.digest', tests.digest(), true);
select results_eq(
  format('select outcome from platform.record_billing_event(%L, null, %L)', 'stripe',
    pg_temp.sub_event('evt_a1', 'customer.subscription.created', 1767225600, 'sub_a', tests.id('org_a'), 'cus_a', 'price_pro_monthly', 'trialing')),
  $$values ('duplicate'::text)$$, 'the same event again is a duplicate');
select results_eq(
  format('select outcome from platform.record_billing_event(%L, %L, %L)', 'stripe', 'evt_a1',
    pg_temp.sub_event('evt_a1', 'customer.subscription.created', 1767225600, 'sub_a', tests.id('org_a'), 'cus_a', 'price_pro_monthly', 'trialing')),
  $$values ('duplicate'::text)$$, 'also when the bridge passes the event id itself');
select is(tests.digest(), current_setting('tests.digest'), 'a duplicate changes no row anywhere');

-- Newer state, then an older event delivered late.
select is(pg_temp.record(pg_temp.sub_event('evt_a3', 'customer.subscription.updated', 1767225900, 'sub_a', tests.id('org_a'), 'cus_a', 'price_team_monthly', 'active', true)),
  'applied', 'a newer update is applied');
select is(pg_temp.sub('sub_a') ->> 'plan', 'Team', 'the plan follows the new price');
select is((pg_temp.sub('sub_a') ->> 'cancel_at_period_end')::boolean, true, 'cancel_at_period_end is recorded');
select is(pg_temp.record(pg_temp.sub_event('evt_a2', 'customer.subscription.updated', 1767225700, 'sub_a', tests.id('org_a'), 'cus_a', 'price_pro_monthly', 'past_due')),
  'stale', 'an older update delivered late is stale');
select is(pg_temp.sub('sub_a') ->> 'status', 'active', 'the stale event did not overwrite the status');
select is(pg_temp.sub('sub_a') ->> 'plan', 'Team', 'nor the plan');
select is(pg_temp.ledger('evt_a2') ->> 'outcome', 'stale', 'the stale event is recorded as stale');

-- Same second: a creation never overrides, and a subscription never moves back from ended.
select is(pg_temp.record(pg_temp.sub_event('evt_b2', 'customer.subscription.updated', 1767226000, 'sub_b', tests.id('org_b'), 'cus_b', 'price_pro_monthly', 'active')),
  'applied', 'the update of another subscription is applied first');
select is(pg_temp.record(pg_temp.sub_event('evt_b1', 'customer.subscription.created', 1767226000, 'sub_b', tests.id('org_b'), 'cus_b', 'price_pro_monthly', 'incomplete')),
  'stale', 'its creation event of the same second, delivered after it, is stale');
select is(pg_temp.sub('sub_b') ->> 'status', 'active', 'the subscription stays active');
select is(pg_temp.record(pg_temp.sub_event('evt_b3', 'customer.subscription.deleted', 1767226100, 'sub_b', tests.id('org_b'), 'cus_b', 'price_pro_monthly', 'canceled')),
  'applied', 'customer.subscription.deleted is applied');
select is(pg_temp.sub('sub_b') ->> 'status', 'canceled', 'the subscription is canceled');
select is(pg_temp.record(pg_temp.sub_event('evt_b4', 'customer.subscription.updated', 1767226100, 'sub_b', tests.id('org_b'), 'cus_b', 'price_pro_monthly', 'active')),
  'stale', 'an update of the same second that would revive it is stale');
select is(pg_temp.sub('sub_b') ->> 'status', 'canceled', 'the subscription stays canceled');

-- invoice.payment_failed marks past_due, unless newer state.
select is(pg_temp.record(jsonb_build_object('id', 'evt_a4', 'type', 'invoice.payment_failed', 'created', 1767226000,
    'data', jsonb_build_object('object', jsonb_build_object('id', 'in_1', 'object', 'invoice', 'customer', 'cus_a',
      'parent', jsonb_build_object('subscription_details', jsonb_build_object('subscription', 'sub_a')))))),
  'applied', 'invoice.payment_failed (subscription under parent, newer API) is applied');
select is(pg_temp.sub('sub_a') ->> 'status', 'past_due', 'the subscription is past_due');
select is(pg_temp.sub('sub_a') ->> 'raw_status', 'active', 'the raw status stays the provider''s last reported one');
select is(pg_temp.record(jsonb_build_object('id', 'evt_a0', 'type', 'invoice.payment_failed', 'created', 1767225650,
    'data', jsonb_build_object('object', jsonb_build_object('id', 'in_0', 'object', 'invoice', 'subscription', 'sub_a')))),
  'stale', 'an older payment failure is stale');
select is(pg_temp.record(jsonb_build_object('id', 'evt_b5', 'type', 'invoice.payment_failed', 'created', 1767226200,
    'data', jsonb_build_object('object', jsonb_build_object('id', 'in_2', 'object', 'invoice', 'subscription', 'sub_b')))),
  'ignored', 'a payment failure of a canceled subscription is ignored');
select is(pg_temp.sub('sub_b') ->> 'status', 'canceled', 'and the subscription stays canceled');
select is(pg_temp.record(jsonb_build_object('id', 'evt_x1', 'type', 'invoice.payment_failed', 'created', 1767226200,
    'data', jsonb_build_object('object', jsonb_build_object('id', 'in_3', 'object', 'invoice', 'subscription', 'sub_nobody')))),
  'rejected', 'a payment failure of an unknown subscription is rejected');

-- ---------------------------------------------------------------------------------------------
-- Ignored and rejected events
-- ---------------------------------------------------------------------------------------------
select is(pg_temp.record('{"id": "evt_i1", "type": "customer.created", "created": 1767226000, "data": {"object": {"id": "cus_z", "object": "customer"}}}'),
  'ignored', 'an event type we do not act on is ignored');
select is(pg_temp.ledger('evt_i1') ->> 'outcome', 'ignored', 'and recorded');

select set_config('tests.ghost', gen_random_uuid()::text, true);
select results_eq(
  format('select outcome, reason from platform.record_billing_event(%L, null, %L)', 'stripe',
    pg_temp.sub_event('evt_r1', 'customer.subscription.created', 1767226000, 'sub_ghost', tests.id('ghost'), 'cus_ghost', 'price_pro_monthly', 'active')),
  format($$values ('rejected'::text, 'unknown organization %s'::text)$$, tests.id('ghost')),
  'an event naming an organization that does not exist is rejected with its reason');
select is(pg_temp.sub('sub_ghost'), null, 'no subscription is created for it');
select is(tests.count_rows('platform.billing_customers', '{"provider_customer_id": "cus_ghost"}'), 0::bigint, 'nor a customer link');
select is(pg_temp.ledger('evt_r1') ->> 'outcome', 'rejected', 'the rejected event is recorded');
select is(pg_temp.record(pg_temp.sub_event('evt_r2', 'customer.subscription.created', 1767226000, 'sub_c', tests.id('org_b'), 'cus_b', 'price_unknown', 'active')),
  'rejected', 'an event with an unknown price is rejected');
select is(pg_temp.ledger('evt_r2') ->> 'organization_id', tests.id('org_b')::text, 'with its organization on record');
select is(pg_temp.record(pg_temp.sub_event('evt_r3', 'customer.subscription.updated', 1767226300, 'sub_a', tests.id('org_b'), 'cus_a', 'price_pro_monthly', 'active')),
  'rejected', 'an event that would move a subscription to another organization is rejected');
select is(pg_temp.sub('sub_a') ->> 'organization_id', tests.id('org_a')::text, 'the subscription stays with its organization');
select is(pg_temp.record('{"id": "evt_r4", "type": "customer.subscription.updated", "created": 1767226000}'),
  'rejected', 'an event without data.object is rejected as malformed');

-- ---------------------------------------------------------------------------------------------
-- Checkout: the customer is linked; a subscription event that came first is applied then
-- ---------------------------------------------------------------------------------------------
select tests.remember('org_c', tests.create_org(tests.id('owner_b'), 'Org C'));
select is(pg_temp.record(pg_temp.sub_event('evt_c1', 'customer.subscription.created', 1767227000, 'sub_c2', null, 'cus_c', 'price_pro_monthly', 'active')),
  'rejected', 'a subscription event without metadata, for a customer not linked yet, is rejected');
select is(pg_temp.record(jsonb_build_object('id', 'evt_c2', 'type', 'checkout.session.completed', 'created', 1767227001,
    'data', jsonb_build_object('object', jsonb_build_object('id', 'cs_1', 'object', 'checkout.session', 'mode', 'subscription',
      'client_reference_id', tests.id('org_c'), 'customer', 'cus_c', 'subscription', 'sub_c2',
      'customer_details', jsonb_build_object('email', 'billing@org-c.test'))))),
  'applied', 'checkout.session.completed with client_reference_id is applied');
select is(tests.count_rows('platform.billing_customers',
    jsonb_build_object('organization_id', tests.id('org_c'), 'provider_customer_id', 'cus_c', 'billing_email', 'billing@org-c.test')),
  1::bigint, 'it links the customer, with the billing email');
select is(pg_temp.sub('sub_c2') ->> 'organization_id', tests.id('org_c')::text,
  'the subscription event that came first is applied once the customer is linked');
select is(pg_temp.ledger('evt_c1') ->> 'outcome', 'applied', 'and its ledger row now says applied');

select tests.reset_identity();
select * from finish();
rollback;
