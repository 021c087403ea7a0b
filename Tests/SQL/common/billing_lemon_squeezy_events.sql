-- Lemon Squeezy webhook events through platform.record_billing_event: the event id is the
-- bridge's key derived from the raw body (ls_ + SHA-256 hex), the organization comes from
-- meta.custom_data.organization_id, the plan from the variant id, the order from
-- data.attributes.updated_at; statuses are normalised with the raw one kept.
begin;
select plan(29);

select tests.world();
insert into platform.subscription_products (paymentprocessor_price_id, name, billing_interval, amount, metadata)
values ('48213', 'Starter', 'month', 900, '{"features": ["exports"]}');

-- A subscription_* event as Lemon Squeezy sends it; ids are numbers in attributes.
create function pg_temp.ls_event(
  p_name text, p_updated text, p_sub text, p_org text, p_status text,
  p_ends_at text default null, p_cancelled boolean default false, p_variant bigint default 48213
) returns jsonb language sql as $$
  select jsonb_build_object(
    'meta', jsonb_build_object('event_name', p_name, 'test_mode', true,
      'custom_data', case when p_org is null then null else jsonb_build_object('organization_id', p_org) end),
    'data', jsonb_build_object('type', 'subscriptions', 'id', p_sub,
      'attributes', jsonb_build_object(
        'store_id', 1, 'customer_id', 777001, 'order_id', 55, 'product_id', 120, 'variant_id', p_variant,
        'user_email', 'payer@org-a.test', 'status', p_status, 'cancelled', p_cancelled,
        'renews_at', '2100-01-01T00:00:00.000000Z', 'ends_at', p_ends_at, 'trial_ends_at', null,
        'created_at', '2026-01-01T00:00:00.000000Z', 'updated_at', p_updated)));
$$;
grant execute on function pg_temp.ls_event(text, text, text, text, text, text, boolean, bigint) to public;

-- Records an event under the key the bridge derives: ls_ + SHA-256 of the body.
create function pg_temp.record(p_payload jsonb) returns text language sql as $$
  select r.outcome from platform.record_billing_event('lemon_squeezy',
    'ls_' || encode(sha256(convert_to(p_payload::text, 'UTF8')), 'hex'), p_payload) as r;
$$;
grant execute on function pg_temp.record(jsonb) to public;

create function pg_temp.sub(p_sub text) returns jsonb language sql security definer as $$
  select to_jsonb(bs) from platform.billing_subscriptions bs where bs.provider_subscription_id = p_sub;
$$;
grant execute on function pg_temp.sub(text) to public;

select tests.authenticate_service_role();

select is(pg_temp.record(pg_temp.ls_event('subscription_created', '2026-01-01T00:00:00.000000Z', '9001', tests.id('org_a')::text, 'on_trial')),
  'applied', 'subscription_created with custom_data.organization_id is applied');
select is(pg_temp.sub('9001') ->> 'status', 'trialing', 'on_trial is normalised to trialing');
select is(pg_temp.sub('9001') ->> 'raw_status', 'on_trial', 'the raw status is kept');
select is(pg_temp.sub('9001') ->> 'plan', 'Starter', 'the plan is the product of the variant id');
select is(pg_temp.sub('9001') ->> 'provider_price_id', '48213', 'the variant id is kept as text');
select is(pg_temp.sub('9001') ->> 'provider', 'lemon_squeezy', 'provider lemon_squeezy');
select is((pg_temp.sub('9001') ->> 'current_period_end')::timestamptz, '2100-01-01T00:00:00Z'::timestamptz,
  'the period ends at renews_at');
select is(tests.count_rows('platform.billing_customers',
    jsonb_build_object('organization_id', tests.id('org_a'), 'provider_customer_id', '777001',
                       'provider', 'lemon_squeezy', 'billing_email', 'payer@org-a.test')),
  1::bigint, 'the Lemon Squeezy customer is linked with its email');
select results_eq(
  $$select event_type, occurred_at, provider_subscription_id from tests.rows('platform.billing_events', '{"provider": "lemon_squeezy"}') r,
         jsonb_to_record(r) as e(event_type text, occurred_at timestamptz, provider_subscription_id text)$$,
  $$values ('subscription_created'::text, '2026-01-01T00:00:00Z'::timestamptz, '9001'::text)$$,
  'the ledger row carries the event name, updated_at and the subscription id');

select set_config('tests.digest', tests.digest(), true);
select is(pg_temp.record(pg_temp.ls_event('subscription_created', '2026-01-01T00:00:00.000000Z', '9001', tests.id('org_a')::text, 'on_trial')),
  'duplicate', 'the same body again is a duplicate');
select is(tests.digest(), current_setting('tests.digest'), 'and changes nothing');

select is(pg_temp.record(pg_temp.ls_event('subscription_updated', '2026-01-02T00:00:00.000000Z', '9001', tests.id('org_a')::text, 'active')),
  'applied', 'subscription_updated to active is applied');
select is(pg_temp.record(pg_temp.ls_event('subscription_updated', '2026-01-01T12:00:00.000000Z', '9001', tests.id('org_a')::text, 'past_due')),
  'stale', 'an update with an older updated_at is stale');
select is(pg_temp.sub('9001') ->> 'status', 'active', 'and leaves the newer status');

select is(pg_temp.record(pg_temp.ls_event('subscription_cancelled', '2026-01-03T00:00:00.000000Z', '9001', tests.id('org_a')::text,
    'cancelled', '2099-02-01T00:00:00.000000Z', true)),
  'applied', 'subscription_cancelled is applied');
select is(pg_temp.sub('9001') ->> 'status', 'active', 'a cancelled subscription whose ends_at is ahead stays active (its grace period)');
select is(pg_temp.sub('9001') ->> 'raw_status', 'cancelled', 'with the raw status cancelled');
select is((pg_temp.sub('9001') ->> 'cancel_at_period_end')::boolean, true, 'and cancel_at_period_end true');
select is((pg_temp.sub('9001') ->> 'current_period_end')::timestamptz, '2099-02-01T00:00:00Z'::timestamptz,
  'the period ends at ends_at');

select is(pg_temp.record(pg_temp.ls_event('subscription_resumed', '2026-01-04T00:00:00.000000Z', '9001', tests.id('org_a')::text, 'active')),
  'applied', 'subscription_resumed is applied');
select is(pg_temp.record(pg_temp.ls_event('subscription_paused', '2026-01-05T00:00:00.000000Z', '9001', tests.id('org_a')::text, 'paused')),
  'applied', 'subscription_paused is applied');
select is(pg_temp.sub('9001') ->> 'status', 'paused', 'paused stays paused');

select is(pg_temp.record(jsonb_build_object(
    'meta', jsonb_build_object('event_name', 'subscription_payment_failed'),
    'data', jsonb_build_object('type', 'subscription-invoices', 'id', '3100',
      'attributes', jsonb_build_object('subscription_id', 9001, 'status', 'failed',
                                       'updated_at', '2026-01-04T12:00:00.000000Z')))),
  'stale', 'a payment failure older than the pause is stale');

select is(pg_temp.record(pg_temp.ls_event('subscription_unpaused', '2026-01-06T00:00:00.000000Z', '9001', tests.id('org_a')::text, 'active')),
  'applied', 'subscription_unpaused is applied');
select is(pg_temp.record(jsonb_build_object(
    'meta', jsonb_build_object('event_name', 'subscription_payment_failed'),
    'data', jsonb_build_object('type', 'subscription-invoices', 'id', '3101',
      'attributes', jsonb_build_object('subscription_id', 9001, 'status', 'failed',
                                       'updated_at', '2026-01-07T00:00:00.000000Z')))),
  'applied', 'subscription_payment_failed marks the subscription');
select is(pg_temp.sub('9001') ->> 'status', 'past_due', 'past_due');

select is(pg_temp.record(pg_temp.ls_event('subscription_expired', '2026-02-01T00:00:00.000000Z', '9001', tests.id('org_a')::text,
    'expired', '2026-01-31T00:00:00.000000Z', true)),
  'applied', 'subscription_expired is applied');
select is(pg_temp.sub('9001') ->> 'status', 'canceled', 'expired is normalised to canceled');

select is(pg_temp.record(pg_temp.ls_event('subscription_created', '2026-01-01T00:00:00.000000Z', '9002', 'not-a-uuid', 'active')),
  'rejected', 'an organization id that is not a uuid is rejected, nothing created');

select tests.reset_identity();
select * from finish();
rollback;
