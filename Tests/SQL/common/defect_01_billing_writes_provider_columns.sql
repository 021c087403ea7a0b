-- Defect 1 (the billing functions wrote paymentprocessor_* columns the tables do not have, so
-- they failed whenever called): link_paymentprocessor_customer and record_subscription_update
-- write the real provider_* columns, for Stripe (the default) and Lemon Squeezy.
begin;
select plan(11);
select tests.world();

select tests.authenticate_service_role();
select lives_ok(format($$select platform.link_paymentprocessor_customer(%L, 'cus_A1', 'billing@a.test')$$, tests.id('org_a')),
  'link_paymentprocessor_customer succeeds');
select results_eq(
  format('select provider_customer_id, provider, billing_email from platform.billing_customers where organization_id = %L', tests.id('org_a')),
  $$values ('cus_A1', 'stripe', 'billing@a.test')$$,
  'the customer is stored in provider_customer_id with provider stripe');
select lives_ok(format($$select platform.link_paymentprocessor_customer(%L, 'cus_A2', 'billing@a.test')$$, tests.id('org_a')),
  'linking the organization again replaces its customer');
select results_eq(
  format('select provider_customer_id from platform.billing_customers where organization_id = %L', tests.id('org_a')),
  $$values ('cus_A2')$$, 'the organization still has one customer row, with the new id');
select lives_ok(format($$select platform.link_paymentprocessor_customer(%L, 'ls_cus_B', null, 'lemon_squeezy')$$, tests.id('org_b')),
  'a Lemon Squeezy customer is linked with p_provider');
select is((select provider from platform.billing_customers where organization_id = tests.id('org_b')), 'lemon_squeezy',
  'its provider is recorded');
select tests.refused(format($$select platform.link_paymentprocessor_customer(%L, 'cus_X', null, 'paypal')$$, tests.id('org_a')),
  'an unknown provider is refused', '{22023,23514}');
select tests.refused(format($$select platform.link_paymentprocessor_customer(%L, 'cus_X', null)$$, gen_random_uuid()),
  'an organization that does not exist is refused', '{P0002,23503}');

select lives_ok(format($$select platform.record_subscription_update(%L, 'sub_A1', 'pro', 'active', now() + interval '30 days', false)$$, tests.id('org_a')),
  'record_subscription_update succeeds');
select results_eq(
  format('select provider_subscription_id, provider, plan, status, cancel_at_period_end from platform.billing_subscriptions where organization_id = %L', tests.id('org_a')),
  $$values ('sub_A1', 'stripe', 'pro', 'active', false)$$,
  'the subscription is stored in provider_subscription_id with its plan and status');
select tests.refused(format($$select platform.record_subscription_update(%L, 'sub_X', 'pro', 'active', null, false)$$, gen_random_uuid()),
  'a subscription for an organization that does not exist is refused', '{P0002,23503}');

select tests.reset_identity();
select * from finish();
rollback;
